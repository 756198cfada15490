package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/chime-reports/chime-reports/keys"
)

func newKeysCmd(cfg *config) *cobra.Command {
	c := &cobra.Command{Use: "keys", Short: "Generate, list and revoke API keys"}
	var user string
	gen := &cobra.Command{
		Use:   "generate --user LOGIN",
		Short: "Mint a new key for a user (prints only the key); the user's previous key stops working at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withKeys(cmd, cfg, func(ks *keys.Service) error {
				key, err := ks.GenerateFor(cmd.Context(), user)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), key)
				return nil
			})
		},
	}
	gen.Flags().StringVar(&user, "user", "", "login name of the user (required)")
	gen.MarkFlagRequired("user")

	var revokeUser string
	revoke := &cobra.Command{
		Use:   "revoke --user LOGIN",
		Short: "Revoke a user's active key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withKeys(cmd, cfg, func(ks *keys.Service) error {
				u, err := ks.UserByLogin(cmd.Context(), revokeUser)
				if err != nil {
					return err
				}
				n, err := ks.Revoke(cmd.Context(), u.ID)
				if err != nil {
					return err
				}
				if n == 0 {
					return fmt.Errorf("%s has no active key", revokeUser)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "revoked the key of %s\n", revokeUser)
				return nil
			})
		},
	}
	revoke.Flags().StringVar(&revokeUser, "user", "", "login name of the user (required)")
	revoke.MarkFlagRequired("user")

	list := &cobra.Command{
		Use:   "list",
		Short: "List every key with its user, masked key, creation and last use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withKeys(cmd, cfg, func(ks *keys.Service) error {
				list, err := ks.List(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tUSER\tKEY\tCREATED\tLAST USED\tSTATUS")
				for _, k := range list {
					status := "active"
					if k.RevokedAt != nil {
						status = "revoked " + k.RevokedAt.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Login, k.Masked, k.CreatedAt.UTC().Format(time.RFC3339), orDash(k.LastUsedAt), status)
				}
				return w.Flush()
			})
		},
	}
	c.AddCommand(gen, list, revoke)
	return c
}

func orDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func newUsersCmd(cfg *config) *cobra.Command {
	c := &cobra.Command{Use: "users", Short: "Manage users"}
	var n keys.NewUser
	var queues string
	add := &cobra.Command{
		Use:   "add --login LOGIN [--queues 1,2] [--admin]",
		Short: "Add a user who manages the given queues (or an admin who sees all)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ids, err := parseQueueList(queues)
			if err != nil {
				return err
			}
			n.Queues = ids
			return withKeys(cmd, cfg, func(ks *keys.Service) error {
				u, err := ks.AddUser(cmd.Context(), n)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "added user %s (id %d); get a key with: chime-reports keys generate --user %s\n", n.Login, u.ID, n.Login)
				return nil
			})
		},
	}
	add.Flags().StringVar(&n.Login, "login", "", "login name (required, unique)")
	add.Flags().StringVar(&n.DisplayName, "name", "", "display name (default: the login)")
	add.Flags().StringVar(&n.Email, "email", "", "e-mail address")
	add.Flags().StringVar(&queues, "queues", "", "comma-separated queue ids the user gets a role on")
	add.Flags().StringVar(&n.Role, "role", "manager", "role on those queues: manager (sees reports), reviewer (opens sessions) or agent")
	add.Flags().BoolVar(&n.Admin, "admin", false, "make the user an admin (sees every queue)")
	add.MarkFlagRequired("login")

	list := &cobra.Command{
		Use:   "list",
		Short: "List active users with their queue roles and key status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withKeys(cmd, cfg, func(ks *keys.Service) error {
				ppl, err := ks.People(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tLOGIN\tNAME\tADMIN\tQUEUES\tKEY")
				for _, p := range ppl {
					var qs []string
					for _, q := range p.Queues {
						qs = append(qs, fmt.Sprintf("%d:%s", q.QueueID, q.Role))
					}
					key := "-"
					if p.Key != nil {
						key = p.Key.Masked[len(p.Key.Masked)-4:] + " (since " + p.Key.CreatedAt.UTC().Format(time.DateOnly) + ")"
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%v\t%s\t%s\n", p.ID, p.Login, p.DisplayName, p.IsAdmin, strings.Join(qs, ","), key)
				}
				return w.Flush()
			})
		},
	}
	c.AddCommand(add, list)
	return c
}

func parseQueueList(s string) ([]uint32, error) {
	var out []uint32
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.ParseUint(part, 10, 32)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("--queues: %q is not a queue id", part)
		}
		out = append(out, uint32(n))
	}
	return out, nil
}

// withKeys opens the configured database for one command and hands the key
// service to fn.
func withKeys(cmd *cobra.Command, cfg *config, fn func(ks *keys.Service) error) error {
	db, _, err := openDB(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)
	return fn(keys.New(db, nil, nil))
}
