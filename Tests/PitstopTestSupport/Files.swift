// Files the tests make for themselves.
import Foundation

/// Makes the file at `path` (emptied if it exists) with `contents`; throws when it cannot be made.
public func makeFile(atPath path: String, contents: Data = Data()) throws {
    guard FileManager.default.createFile(atPath: path, contents: contents) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
}
