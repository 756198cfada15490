package reports

import (
	"fmt"
	"io"
	"strings"
)

// WriteDocs writes docs/reports.md from the registry: every implemented
// report with its category, grain, columns and formula in words.
func WriteDocs(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Reports\n\n")
	b.WriteString("Generated from the report registry (`go test ./reports -run TestDocs -update`); do not edit by hand.\n")
	b.WriteString("Column types: `date` (YYYY-MM-DD local), `datetime` (RFC 3339 with offset in `zone`), `int`, `seconds` (decimal, 1 dp),\n")
	b.WriteString("`pct` (0–100, 1 dp), `decimal` (2 dp), `string`. An empty ratio or average is null in JSON and an empty CSV cell.\n")
	b.WriteString("\nTime-series reports (marked *takes `interval`*) accept `interval`: `PT15M`, `PT30M`, `PT1H`, `P1D`, `P1W` (ISO weeks, local),\n")
	b.WriteString("`P1M` (local months) or `total`; without it they keep their own grain. With another interval the bucket column is\n")
	b.WriteString("`PeriodStart` (datetime, the bucket's local start). The agent series and queue depth split their chats, presence\n")
	b.WriteString("and waiting time across the interval's buckets by overlap, as they split them across days or hours (each says how\n")
	b.WriteString("below). Every interval works on every one of them.\n")
	b.WriteString("\nReports marked *reads the interval store* take their additive columns (counts, sums, minima and maxima, and the sums and\n")
	b.WriteString("counts behind means and ratios) from per-queue aggregates in 15-minute intervals when both ends of the window are on\n")
	b.WriteString("15-minute boundaries; percentiles and distinct counts always come from the sessions. The answer equals the one computed\n")
	b.WriteString("from the sessions alone ([architecture.md](architecture.md#the-interval-store)).\n")
	for _, c := range Categories {
		rs := InCategory(c.Category)
		if len(rs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s — `/Chime/Report/%s`\n", c.Category, c.Route)
		for _, r := range rs {
			fmt.Fprintf(&b, "\n### %s\n\n%s. Grain: %s.", r.Name, r.Description, r.Grain)
			if r.RequiresQueue() {
				b.WriteString(" Requires `queueId`.")
			}
			if r.TakesInterval() {
				fmt.Fprintf(&b, " Takes `interval` (default `%s`).", r.DefaultInterval())
			}
			if r.ReadsStore() {
				b.WriteString(" *Reads the interval store.*")
			}
			fmt.Fprintf(&b, "\n\n%s\n", r.Formula)
			if r.intervalFormula != "" {
				fmt.Fprintf(&b, "\nAt another interval: %s\n", r.intervalFormula)
			}
			b.WriteString("\n| Column | Type | Description |\n|---|---|---|\n")
			for _, col := range r.Columns {
				fmt.Fprintf(&b, "| %s | %s | %s |\n", col.Name, col.Type, strings.ReplaceAll(col.Description, "|", "\\|"))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
