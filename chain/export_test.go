package chain

// SetCheckPanic makes CheckTx call f first (tests of its panic recovery).
func SetCheckPanic(a *App, f func(tx []byte)) { a.checkPanic = f }
