package main

import (
	"fmt"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:  "version",
		Usage: "print the version of evote and of the Go toolchain that built it",
		Action: func(c *cli.Context) error {
			v := "(devel)"
			goVersion := "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				goVersion = bi.GoVersion
				if bi.Main.Version != "" {
					v = bi.Main.Version
				}
			}
			fmt.Fprintf(c.App.Writer, "evote %s (%s)\n", v, goVersion)
			return nil
		},
	})
}
