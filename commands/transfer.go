package commands

import (
	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/plural"
)

func (env *Env) transferCommand() *cli.Command {
	return &cli.Command{
		Name:  "transfer",
		Usage: "see the shipments and orders between stores",
		Description: `A customer invoice or a request requisition made out to the name of another store is a transfer to
that store. The central server sends it to the site where that store is active as well, read-only there,
and that site makes the other half in the receiving store: a supplier invoice (status new) from a
shipment that is confirmed or finalised, a response (status new) from a request that is sent.`,
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the transfers this datafile holds",
				UsageText: "msupply-sync transfer list [--store STORE] [--pending] [--output table|json]",
				Description: `Each line is one transfer: the outbound document and its store, the inbound document made from
it (none yet while it travels) and its store, their statuses, and what the transfer waits for:
  sender          the outbound document is not sent yet (a new invoice, a draft request)
  receiving_site  sent; the inbound document is made on the receiving store's site and has not
                  reached this datafile yet
  sending_site    the inbound exists; the sending store's site has not taken it in yet
  receiver        the receiving store has yet to receive or finish it
A transfer waiting for either site is on its way (--pending). On a remote, a transfer that stays pending
after both sites have synced points at a site that has not synced since, or at a store that moved.

Examples:
  msupply-sync transfer list
  msupply-sync transfer list --store CL1 --pending --output json`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "store", Usage: "only the transfers from or to this store (code or id)"},
					&cli.BoolFlag{Name: "pending", Usage: "only the transfers on their way between sites"},
					outputFlag(),
				},
				Action: env.runTransferList,
			},
		},
	}
}

func (env *Env) runTransferList(c *cli.Context) error {
	db, format, _, err := openFor(c)
	if err != nil {
		return err
	}
	defer db.Close()
	transfers, err := db.Transfers(c.Context, c.String("store"), c.Bool("pending"))
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(env.Stdout, transfers)
	}
	rows := make([][]string, 0, len(transfers))
	for _, t := range transfers {
		rows = append(rows, []string{t.Kind, t.OutboundStore, t.OutboundID, t.OutboundStatus,
			t.InboundStore, orNone(t.InboundID), orNone(t.InboundStatus), orNone(&t.WaitingFor)})
	}
	header := []string{"KIND", "FROM", "OUTBOUND", "STATUS", "TO", "INBOUND", "STATUS", "WAITING FOR"}
	return writeTable(env.Stdout, header, rows, plural.Count(len(transfers), "transfer", "transfers"))
}

// orNone is the text of an optional value, "-" when it has none.
func orNone(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return *s
}
