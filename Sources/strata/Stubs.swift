import ArgumentParser
struct Compare: ParsableCommand { func run() throws {} }
struct Plot: ParsableCommand { func run() throws {} }
struct Demo: ParsableCommand { func run() throws {} }
struct Import: ParsableCommand { func run() throws {} }
