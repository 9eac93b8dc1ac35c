import ArgumentParser
import Strata

/// The `strata` command line. Subcommands are added as the CLI grows.
@main
struct StrataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "A metric store for machine-learning experiment tracking."
    )
}
