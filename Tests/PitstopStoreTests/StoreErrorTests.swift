// What reaches an operator when SQLite refuses: Pitstop's words, naming the file, never SQLite's.
import GRDB
import PitstopCore
import Testing

@testable import PitstopStore

@Suite struct StoreErrorTests {
    /// A write refused for the file's permissions (root writes any file, so a real refusal
    /// cannot be made where the tests run as root): the message names the database file and
    /// says what to check, without SQLite's own text.
    @Test(arguments: [ResultCode.SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN, .SQLITE_AUTH])
    func aWriteRefusedForPermissionsNamesTheFile(_ code: ResultCode) throws {
        let refusal = DatabaseError(resultCode: code, message: "attempt to write a readonly database")
        let error = try #require(translated(refusal, databasePath: "/srv/pitstop/fleet.sqlite") as? PitstopError)
        #expect(error.message == "/srv/pitstop/fleet.sqlite: the database cannot be written: check that you may write the file and its directory",
                "\(error.message)")
        #expect(!error.message.contains("readonly") && !error.message.contains("SQLITE"))
    }
}
