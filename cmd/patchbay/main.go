// Command patchbay is the Patchbay server and its operator's console.
//
//	patchbay [serve] [--config FILE]     run the server (the default)
//	patchbay version                     print the version
//	patchbay accounts create --name N    create an account, print its SID and token
//	patchbay accounts list               print the accounts as a table
//	patchbay config [--config FILE]      print the effective settings, secrets hidden
//	patchbay migrate [--config FILE]     bring the database schema up to date
//
// Settings come from the YAML file, overridden by PATCHBAY_* variables, over
// built-in defaults (package conf). Exit status: 0 on success, 1 on a
// start-up or runtime error (one line per problem on stderr), 2 on a usage
// error.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], newStdio(), os.Environ()))
}
