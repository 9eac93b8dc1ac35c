import ArgumentParser
struct Import: ParsableCommand { func run() throws {} }
