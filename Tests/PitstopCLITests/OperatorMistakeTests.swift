// Mistakes a tired operator makes, and the one clear message each deserves.
import Foundation
import GRDB
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

    @Test func aRowChangedBehindPitstopsBackExitsThreeWithoutInternals() throws {
        // Given a campaign row whose creation time someone overwrote by hand
        let box = try Sandbox()
        try box.seed()
        let queue = try DatabaseQueue(path: box.db)
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO campaigns(id, kind, created_at, not_before, regions, per_vm_seconds, ud_gap_seconds, horizon_seconds, description, start_utc, end_utc)
                VALUES ('c1', 'reboot', 'yesterday', '2026-12-01T00:00:00Z', '[]', 900, 1800, 86400, '', '2026-12-01T00:00:00Z', '2026-12-01T01:00:00Z')
                """)
        }
        try queue.close()

        // when an operator lists the campaigns
        let run = try box.run("campaign", "list")

        // then it is an internal fault (3), not a refusal of their input, named in words
        #expect(run.status == 3, "\(run)")
        #expect(run.stderr == "pitstop: campaigns row 'c1' cannot be read: a kind or time cannot be read; the database was changed outside Pitstop\n", "\(run)")
    }

    /// Both readers of a wave (one VM's events, and the whole plan that `check` reads) refuse a
    /// wave whose kind was overwritten by hand, naming the wave, the same way.
    @Test(arguments: [["upcoming", "--within", "120d"], ["check"]])
    func aWaveChangedBehindPitstopsBackIsNamedByEveryReader(command: [String]) throws {
        let box = try Sandbox()
        try box.seed()
        try box.ok("plan", "--kind", "reboot")
        let queue = try DatabaseQueue(path: box.db)
        let wave = try queue.write { db -> String in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            let wave = try String.fetchOne(db, sql: "SELECT public_id FROM waves ORDER BY start_at LIMIT 1") ?? ""
            try db.execute(sql: "UPDATE waves SET kind = 'teleport' WHERE public_id = ?", arguments: [wave])
            return wave
        }
        try queue.close()

        let run = try box.runRaw(command + ["--db", box.db])

        #expect(run.status == 3, "\(run)")
        #expect(run.stderr == "pitstop: waves row '\(wave)' cannot be read: its kind or a time cannot be read; the database was changed outside Pitstop\n", "\(run)")
    }
}
