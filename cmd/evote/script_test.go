package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the evote binary in-process as the "evote"
// command of the scripts in testdata/script.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"evote": func() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI sessions in testdata/script/*.txtar: each reads as a
// user's session, a command followed by the output or error it must print.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Configs shipped with the project are reachable from every script.
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			env.Setenv("CONFIGS", wd+"/../../election-configs")
			return nil
		},
	})
}
