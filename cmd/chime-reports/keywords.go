package main

import (
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chime-reports/chime-reports/reports/textindex"
)

func newKeywordsCmd(cfg *config) *cobra.Command {
	c := &cobra.Command{Use: "keywords", Short: "Maintain the keyword index of the text analytics reports"}
	var rebuild bool
	var stop string
	reindex := &cobra.Command{
		Use:   "reindex [--rebuild] [--stop-words a,b]",
		Short: "Index the keywords of closed sessions not indexed yet (all of them with --rebuild)",
		Long: `reindex tokenizes the question, guest messages and agent messages of every
closed session that is not indexed yet and stores them in session_keywords.
It is incremental: each session is indexed once, and a run that stops half-way
resumes where it stopped. --rebuild forgets the index and starts over (use it
after changing --stop-words).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, _, err := openDB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeDB(db)
			var words []string
			for _, w := range strings.Split(stop, ",") {
				if w = strings.TrimSpace(w); w != "" {
					words = append(words, w)
				}
			}
			began := time.Now()
			st, err := textindex.NewIndexer(db, nil).Run(cmd.Context(), textindex.Options{Rebuild: rebuild, StopWords: words, Progress: progressFunc()})
			if err != nil {
				return err
			}
			slog.Info("keywords indexed", "sessions", st.Sessions, "keywords", st.Keywords, "seconds", time.Since(began).Seconds())
			return nil
		},
	}
	reindex.Flags().BoolVar(&rebuild, "rebuild", false, "forget the index and index every closed session again")
	reindex.Flags().StringVar(&stop, "stop-words", "", "comma-separated words to drop besides the built-in English stop words")
	c.AddCommand(reindex)
	return c
}
