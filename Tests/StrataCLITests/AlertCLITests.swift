import Foundation
import Testing

/// `strata alert`, `strata alerts` and `strata watch` through the built binary (issue 15).
@Suite("Alerts CLI (built binary)")
struct AlertCLITests {
    @Test func watchExitsThreeWhenARuleFiresAndZeroWhenRunsEnded() throws {
        let dir = TempDir()
        let store = dir.sub("s")
        #expect(try strata(["log", "r", "--step", "0", "train/loss=1", "--create"], store: store).code == 0)
        let add = try strata(["alert", "add", "--run", "r", "--metric", "train/loss", "--nonfinite"], store: store)
        #expect(add.code == 0, "\(add.err)")
        let list = try strata(["alert", "list"], store: store)
        #expect(list.out.contains(add.out.trimmingCharacters(in: .whitespacesAndNewlines)) && list.out.contains("non-finite"))
        // Nothing fires and the run has ended: 0.
        let quiet = try strata(["watch", "r", "--interval", "0.1"], store: store)
        #expect(quiet.code == 0, "\(quiet.out)\(quiet.err)")
        #expect(try strata(["log", "r", "--step", "1", "train/loss=NaN"], store: store).code == 0)
        let fired = try strata(["watch", "r", "--interval", "0.1"], store: store)
        #expect(fired.code == 3, "\(fired.out)\(fired.err)")
        #expect(fired.out.contains("ALERT") && fired.out.contains("train/loss step 1"))
        // watch stores nothing.
        #expect(try strata(["alerts"], store: store).out.contains("no alert events"))
    }

    @Test func badRulesAreRefusedNamingTheProblem() throws {
        let dir = TempDir()
        let store = dir.sub("s")
        #expect(try strata(["log", "r", "--step", "0", "train/loss=1", "--create"], store: store).code == 0)
        let typo = try strata(["alert", "add", "--run", "r", "--metric", "train/los", "--above", "2"], store: store)
        #expect(typo.code == 2 && typo.err.contains("unknown metric \"train/los\"") && typo.err.contains("train/loss"), "\(typo.err)")
        let url = try strata(["alert", "add", "--run", "r", "--metric", "train/loss", "--above", "2", "--webhook", "localhost:80"], store: store)
        #expect(url.code == 2 && url.err.contains("http://"), "\(url.err)")
        let none = try strata(["alert", "add", "--run", "r", "--metric", "train/loss"], store: store)
        #expect(none.code == 2 && none.err.contains("one condition"), "\(none.err)")
        let steps = try strata(["alert", "add", "--run", "r", "--metric", "train/loss", "--no-improvement", "0"], store: store)
        #expect(steps.code == 2 && steps.err.contains("at least 1"), "\(steps.err)")
        let run = try strata(["alert", "add", "--run", "nope", "--metric", "train/loss", "--above", "1"], store: store)
        #expect(run.code != 0 && run.err.contains("nope"), "\(run.err)")
        #expect(try strata(["alert", "list"], store: store).out.contains("no alert rules"))
    }
}
