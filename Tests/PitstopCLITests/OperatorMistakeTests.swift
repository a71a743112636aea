// Mistakes a tired operator makes, and the one clear message each deserves.
import Foundation
import Testing

@Suite struct OperatorMistakeTests {
    @Test func aDirectoryGivenAsTheDatabaseIsNamedAsSuch() throws {
        let box = try Sandbox()
        let run = try box.runRaw(["vm", "list", "--db", box.directory.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("is a directory"), "\(run)")
    }

    @Test func anUnknownSetIsTheOnlyProblemReported() throws {
        let box = try Sandbox()
        try box.seed()
        let run = try box.run("vm", "add", "x", "--set", "nope")
        #expect(run.status == 2)
        #expect(run.stderr == "pitstop: availabilitySet: unknown availability set 'nope'\n", "\(run)")
    }
}
