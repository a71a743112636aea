// Issue 11, items 3 to 6, as an operator meets them at the terminal: ranges that would grow
// memory without end, offsets passed off as time zones, input edge cases, and a mistyped
// --db that used to create a database.
import Foundation
import GRDB
import Testing

@Suite struct RangeBoundCLITests {
    @Test(arguments: [["windows", "--within"], ["upcoming", "--within"], ["plan", "--kind", "reboot", "--horizon"]])
    func aRangeOverTheMaximumIsRefusedBeforeTheDatabaseIsOpened(_ command: [String]) throws {
        // Given no database at all, so any work would fail on it first
        let box = try Sandbox()
        let missing = box.path("nowhere/pitstop.sqlite")

        // when a range a day over the maximum is asked for
        let run = try box.runRaw(command + ["367d", "--db", missing])

        // then the range is what is refused, at once, and nothing was created
        try #require(run.status == 2, "\(run)")
        let option = command.last!
        #expect(run.stderr == "pitstop: \(option): 367d is longer than the maximum of 366d (366 days)\n", "\(run)")
        #expect(!FileManager.default.fileExists(atPath: box.path("nowhere")))
    }

    @Test func theTypedRangeOfTheIssueIsRefusedAtOnce() throws {
        let box = try Sandbox()
        try box.seed()
        // A refusal must come before any occurrence is computed: first prove the bound exists,
        // so that a build without it fails here instead of growing without end below.
        try #require(try box.run("windows", "--within", "367d").status == 2)
        let run = try box.run("windows", "--within", "99999999d")
        #expect(run.status == 2, "\(run)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("--within: 99999999d is longer than the maximum of 366d"), "\(run)")
    }

    @Test func theMaximumItselfIsAccepted() throws {
        let box = try Sandbox()
        try box.seed()
        let run = try box.ok("windows", "--within", "366d", "--format", "json")
        let occurrences = try #require(try run.jsonObject()["occurrences"] as? [[String: Any]])
        #expect(occurrences.count > 100)  // a weekend window: two nights a week for a year
    }

    @Test func aRelayTimeoutOverAnHourIsRefused() throws {
        let box = try Sandbox()
        try box.seed()
        let run = try box.run("notify", "--smtp", "127.0.0.1:9", "--timeout", "30d")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr == "pitstop: --timeout: 30d is longer than the maximum of 1h\n", "\(run)")
    }

    @Test func aHugeJSONStringIsRefusedWithItsFileLineAndField() throws {
        // Given a document whose second VM's name is 1 MiB long
        let box = try Sandbox()
        let long = String(repeating: "x", count: 1 << 20)
        let file = try box.write("fleet.json", "{\"vms\": [\n{\"name\": \"a\"},\n{\"name\": \"\(long)\"}]}\n")

        let run = try box.run("import", file)

        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.hasPrefix("\(file):3: vms[1].name: a value longer than 65536 bytes (64 KiB, the most a document's string or number may hold); refused while reading\n"), "\(run)")
        #expect(run.stderr.utf8.count < 1000)
    }
}

@Suite struct TimeZoneCLITests {
    @Test(arguments: [
        ("UTC+5", "Etc/GMT-5 for a fixed UTC+05:00"),
        ("GMT-3", "Etc/GMT+3 for a fixed UTC-03:00"),
        ("+05:00", "Etc/GMT-5 for a fixed UTC+05:00"),
        ("UTC+05:30", "the IANA zone of the place (like Asia/Kolkata"),
    ])
    func anOffsetWrittenAsAZoneIsRefusedWithTheZoneToUse(_ zone: String, _ suggestion: String) throws {
        let box = try Sandbox()
        try box.seed()
        let before = try box.export()
        let run = try box.run("window", "add", "w", "--region", "eastus", "--start", "2026-12-05T22:00:00",
                              "--time-zone", zone, "--duration", "PT8H")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.hasPrefix("pitstop: --time-zone: '\(zone)' is an offset, not a time zone"), "\(run)")
        #expect(run.stderr.contains(suggestion), "\(run)")
        #expect(try box.export() == before)
    }

    @Test(arguments: ["Etc/GMT-5", "UTC", "Asia/Karachi"])
    func anIANANameIsAccepted(_ zone: String) throws {
        let box = try Sandbox()
        try box.seed()
        try box.ok("window", "add", "w", "--region", "eastus", "--start", "2026-12-05T22:00:00", "--time-zone", zone, "--duration", "PT8H")
    }

    @Test func theNoticeZoneOfASubscriptionFollowsTheSameRule() throws {
        let box = try Sandbox()
        let run = try box.run("subscription", "add", "fabrikam", "--notice-time-zone", "UTC+5")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("'UTC+5' is an offset, not a time zone"), "\(run)")
        #expect(run.stderr.contains("Etc/GMT-5"), "\(run)")
    }

    @Test func anImportedWindowOrNoticeZoneFollowsTheSameRule() throws {
        let box = try Sandbox()
        let file = try box.write("fleet.json", """
            {"regions": [{"name": "eastus"}],
             "subscriptions": [{"id": "contoso", "noticeTimeZone": "GMT-3"}],
             "maintenanceWindows": [{"name": "w", "region": "eastus", "start": "2026-12-05T22:00:00",
                                     "timeZone": "UTC+5", "duration": "PT8H"}]}
            """)
        let run = try box.run("import", file)
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("\(file):2: subscriptions[0].noticeTimeZone: 'GMT-3' is an offset, not a time zone"), "\(run)")
        #expect(run.stderr.contains("\(file):3: maintenanceWindows[0].timeZone: 'UTC+5' is an offset, not a time zone"), "\(run)")
    }
}

@Suite struct InputEdgeCLITests {
    static let header = "name,region,subscription,availabilitySet,updateDomain,faultDomain\n"

    @Test func aCSVThatStartsWithAByteOrderMarkIsImported() throws {
        let box = try Sandbox()
        try box.seed()
        let file = try box.write("fleet.csv", bytes: [0xEF, 0xBB, 0xBF] + Array((Self.header + "web-9,,,web,,\n").utf8))
        let run = try box.ok("import", file)
        #expect(importCounts(run.stdout)["vms"] == [1, 0, 0], "\(run)")
    }

    @Test func aKeyRepeatedInsideOneRecordIsRefusedWithItsLines() throws {
        let box = try Sandbox()
        let file = try box.write("fleet.json", "{\"regions\": [{\"name\": \"eastus\",\n  \"name\": \"westus\"}]}\n")
        let run = try box.run("import", file)
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("\(file):1: regions[0].name: appears twice in this record (lines 1 and 2)"), "\(run)")
        let list = try box.run("region", "list", "--format", "json")
        #expect(!list.stdout.contains("eastus") && !list.stdout.contains("westus"), "\(list)")
    }

    @Test func controlCharactersFromTheInputAreEscapedInMessages() throws {
        // Given a CSV whose region cell holds CR LF and a JSON whose region name holds an ESC (a
        // NUL is refused where the JSON is read: no stored text holds one)
        let box = try Sandbox()
        try box.seed()
        let csv = try box.write("fleet.csv", Self.header + "vm-1,\"east\r\nus\",contoso,,,\n")
        let json = try box.write("fleet.json", "{\"vms\": [{\"name\": \"vm-2\", \"region\": \"east\\u001bus\", \"subscription\": \"contoso\"}]}")

        let fromCSV = try box.run("import", csv), fromJSON = try box.run("import", json)

        // then the messages show them as escapes, never as the raw bytes
        #expect(fromCSV.status == 2 && fromJSON.status == 2)
        #expect(fromCSV.stderr.contains("unknown region 'east\\r\\nus'"), "\(fromCSV)")
        #expect(fromJSON.stderr.contains("unknown region 'east\\u{1B}us'"), "\(fromJSON)")
        for run in [fromCSV, fromJSON] {
            #expect(!run.stderr.utf8.contains(0x0D) && !run.stderr.utf8.contains(0x1B), "\(run)")
        }
    }

    @Test func anUnknownNameWithControlCharactersIsEscapedToo() throws {
        let box = try Sandbox()
        try box.seed()
        let run = try box.run("vm", "show", "web\r\n-0\u{1B}[2J")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr == "pitstop: unknown VM 'web\\r\\n-0\\u{1B}[2J'\n", "\(run)")
    }

    @Test func aDirectoryMissingFileOrUnreadableFileIsNamedAsSuch() throws {
        let box = try Sandbox()
        try box.seed()
        let directory = box.path("fleet.d")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        let asDirectory = try box.run("import", directory, "--format", "csv")
        #expect(asDirectory.status == 2)
        #expect(asDirectory.stderr == "pitstop: \(directory): is a directory; give the file to import\n", "\(asDirectory)")

        let missing = try box.run("import", box.path("nope.csv"))
        #expect(missing.status == 2)
        #expect(missing.stderr == "pitstop: \(box.path("nope.csv")): no such file\n", "\(missing)")

        // Root reads any file, so the unreadable case only runs for another user.
        if getuid() != 0 {
            let locked = try box.write("locked.csv", Self.header)
            chmod(locked, 0)
            let run = try box.run("import", locked)
            #expect(run.status == 2)
            #expect(run.stderr == "pitstop: \(locked): cannot be opened: permission denied\n", "\(run)")
        }
    }

    @Test func aTwentyDigitNumberIsOutOfRangeNotNotAWholeNumber() throws {
        let box = try Sandbox()
        try box.seed()
        let csv = try box.write("fleet.csv", Self.header + "web-9,,,web,12345678901234567890,\n")
        let json = try box.write("fleet.json", "{\"availabilitySets\": [{\"name\": \"web\", \"region\": \"eastus\", \"subscription\": \"contoso\", \"updateDomains\": 12345678901234567890}]}")
        let fromCSV = try box.run("import", csv), fromJSON = try box.run("import", json)
        #expect(fromCSV.stderr.contains("\(csv):2: updateDomain: '12345678901234567890' is out of range"), "\(fromCSV)")
        #expect(fromJSON.stderr.contains("\(json):1: availabilitySets[0].updateDomains: 12345678901234567890 is out of range"), "\(fromJSON)")
        #expect(!fromCSV.stderr.contains("not a whole number") && !fromJSON.stderr.contains("not a whole number"))
    }
}

@Suite struct MissingDatabaseCLITests {
    static let readOnly: [[String]] = [
        ["inventory"], ["export"], ["vm", "list"], ["region", "list"], ["windows"], ["upcoming"], ["check"],
        ["campaign", "list"], ["notices"], ["audit"], ["audit", "verify"], ["report"], ["vm", "show", "web-0"],
        ["vm", "remove", "web-0"], ["event", "show", "e1"],
    ]

    @Test(arguments: readOnly)
    func aCommandThatDoesNotRecordTheFleetRefusesAMissingDatabase(_ command: [String]) throws {
        let box = try Sandbox()
        let typo = box.path("typo/a/b.sqlite")
        let run = try box.runRaw(command + ["--db", typo])
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.hasPrefix("pitstop: \(typo): no such database"), "\(run)")
        #expect(!FileManager.default.fileExists(atPath: box.path("typo")), "pitstop \(command.joined(separator: " ")) created \(typo)")
    }

    @Test func aCommandThatRecordsTheFleetCreatesIt() throws {
        let box = try Sandbox()
        let fresh = box.path("new/dir/pitstop.sqlite")
        let run = try box.runRaw(["region", "add", "eastus", "--db", fresh])
        #expect(run.status == 0, "\(run)")
        #expect(FileManager.default.fileExists(atPath: fresh))
        #expect(try box.runRaw(["region", "list", "--db", fresh]).stdout.contains("eastus"))
    }

    /// A URL of an engine Pitstop does not open (or a typo'd scheme) is not a relative path to
    /// make a SQLite file at, and an empty `sqlite:` is not SQLite's throwaway temporary
    /// database: a fleet recorded there would be gone at exit, the command reporting success.
    @Test(arguments: ["mysql://ops@db.example/fleet", "postgress://ops@db.example/fleet", "sqlite:"])
    func aLocationThatNamesNoFileIsRefusedForEveryCommand(_ location: String) throws {
        let box = try Sandbox()
        for command in [["region", "add", "eastus"], ["vm", "list"]] {
            let run = try box.runRaw(command + ["--db", location])
            #expect(run.status == 2, "\(run)")
            #expect(run.stderr.hasPrefix("pitstop: --db "), "\(run)")
            #expect(run.stderr.contains("give a SQLite file (PATH or sqlite:PATH) or a postgres://USER@HOST/DATABASE URL"), "\(run)")
            #expect(!run.stderr.contains("db.example"), "the URL may carry a password: \(run)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: box.directory.path).filter { $0 != "home" }.isEmpty,
                "nothing is created in the working directory")
    }

    @Test func importOfAMissingFileCreatesNoDatabase() throws {
        let box = try Sandbox()
        let run = try box.run("import", box.path("nope.json"))
        #expect(run.status == 2, "\(run)")
        #expect(!FileManager.default.fileExists(atPath: box.db))
    }

    @Test func serveRefusesAMissingDatabase() throws {
        // An address that cannot be listened on: a build that opened the database first would
        // fail there (or, on a good address, serve an empty fleet forever) instead.
        let box = try Sandbox()
        // --insecure: without it, plain HTTP on a name that is not loopback is refused before the database is looked at.
        let run = try box.run("serve", "--host", "no-such-host.invalid", "--port", "0", "--insecure")
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("\(box.db): no such database"), "\(run)")
        #expect(!FileManager.default.fileExists(atPath: box.db))
    }

    @Test func aFileThatIsNotADatabaseGetsNoWALBesideIt() throws {
        let box = try Sandbox()
        let bytes = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try box.write("pitstop.sqlite", bytes: bytes)
        let run = try box.run("inventory")
        #expect(run.status == 2, "\(run)")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: box.db))) == bytes)
        #expect(!FileManager.default.fileExists(atPath: box.db + "-wal") && !FileManager.default.fileExists(atPath: box.db + "-shm"))
    }

    @Test func anotherApplicationsWALDatabaseIsRefusedAndLeftWithoutWALFiles() throws {
        // Given another application's database in WAL mode, closed cleanly
        let box = try Sandbox()
        let queue = try DatabaseQueue(path: box.db)
        try queue.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "CREATE TABLE orders(id INTEGER PRIMARY KEY); INSERT INTO orders VALUES (1)")
        }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: box.db))
        try #require(!FileManager.default.fileExists(atPath: box.db + "-wal"))

        for command in [["inventory"], ["region", "add", "eastus"]] {
            let run = try box.runRaw(command + ["--db", box.db])
            #expect(run.status == 2, "\(run)")
            #expect(run.stderr.contains("it is not a Pitstop database"), "\(run)")
        }

        #expect(try Data(contentsOf: URL(fileURLWithPath: box.db)) == before)
        #expect(!FileManager.default.fileExists(atPath: box.db + "-wal") && !FileManager.default.fileExists(atPath: box.db + "-shm"))
    }
}
