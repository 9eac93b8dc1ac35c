import ArgumentParser

/// Placeholder until the importers land: says so instead of pretending.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import from TensorBoard, MLflow or W&B (not implemented yet).")
    @Argument(help: "tensorboard DIR | mlflow DIR | wandb FILE") var args: [String] = []
    func run() throws {
        throw CLIError("importers (tensorboard, mlflow, wandb) are not implemented yet; for now convert to JSON lines or CSV and use `strata ingest` (docs/CLI.md)")
    }
}
