// A queued notice as an RFC 5322 e-mail: headers, a MIME text/plain body, CRLF line endings.
import Foundation
public import PitstopCore
import PitstopStore

/// One notice composed as an e-mail, ready for a relay or an outbox directory.
public struct NoticeMessage: Sendable, Hashable {
    /// The notice's id in the outbox table.
    public var noticeID: Int64
    /// The campaign the notice announces.
    public var campaign: String
    /// `<notice-ID.CAMPAIGN@pitstop>`: the same for every attempt, so that a message sent
    /// twice (a crash between the relay's acceptance and the commit) can be recognised.
    public var messageID: String
    /// The sender: the From header and the SMTP reverse path.
    public var from: String
    /// The subscription's admins and co-admins: the To header and one RCPT TO each.
    public var recipients: [String]
    /// The whole message (headers and body) with CRLF line endings, not dot-stuffed.
    public var bytes: [UInt8]

    /// The Message-ID of a notice, angle brackets included.
    public static func messageID(noticeID: Int64, campaign: String) -> String {
        "<notice-\(noticeID).\(campaign)@pitstop>"
    }

    /// The outbox file name: `notice-ID-CAMPAIGN.eml`, stable so that a rewrite replaces it.
    public var fileName: String { "notice-\(noticeID)-\(campaign).eml" }

    /// Composes `notice` as an e-mail from `from`, dated `date`.
    ///
    /// The body is the stored one (VMs, waves, and times in UTC and in the subscription's
    /// zone, written when the notice was queued). It is sent as 7bit when it is plain ASCII
    /// in lines of at most 998 octets, which every relay takes without 8BITMIME; otherwise
    /// as quoted-printable UTF-8.
    public static func compose(_ notice: NoticeRecord, from: String, date: Timestamp) throws(NoticeProblem) -> NoticeMessage {
        guard Mailbox.isUsable(from) else { throw NoticeProblem("the sender '\(from.truncatedForMessage)' is not a usable e-mail address") }
        guard !notice.recipients.isEmpty else {
            throw NoticeProblem("subscription \(notice.subscription) had no admins or co-admins when the notice was queued: nobody to send it to")
        }
        if let bad = notice.recipients.first(where: { !Mailbox.isUsable($0) }) {
            throw NoticeProblem("recipient '\(bad.truncatedForMessage)' is not a usable e-mail address")
        }
        guard Mailbox.isDotAtomText(notice.campaign) else {
            throw NoticeProblem("campaign id '\(notice.campaign.truncatedForMessage)' cannot appear in a Message-ID")
        }
        let messageID = messageID(noticeID: notice.id, campaign: notice.campaign)
        let lines = notice.body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // A body that ended with a newline has an empty last piece: it is that newline.
        let bodyLines = lines.last == "" ? Array(lines.dropLast()) : lines
        let plain = bodyLines.allSatisfy { line in line.utf8.count <= 998 && line.utf8.allSatisfy { $0 < 128 && $0 != 0 } }

        var header = ""
        func field(_ name: String, _ value: String) { header += name + ": " + value + "\r\n" }
        field("From", from)
        header += folded("To: ", items: notice.recipients)
        field("Date", rfc5322Date(date))
        field("Message-ID", messageID)
        header += foldedText("Subject: ", encodedHeaderText(notice.subject))
        field("MIME-Version", "1.0")
        field("Content-Type", "text/plain; charset=utf-8")
        field("Content-Transfer-Encoding", plain ? "7bit" : "quoted-printable")
        // RFC 3834: a machine wrote this, so vacation responders stay quiet.
        field("Auto-Submitted", "auto-generated")
        let body = plain
            ? bodyLines.map { $0 + "\r\n" }.joined()
            : QuotedPrintable.encode(lines: bodyLines)
        return NoticeMessage(noticeID: notice.id, campaign: notice.campaign, messageID: messageID, from: from,
                             recipients: notice.recipients, bytes: Array((header + "\r\n" + body).utf8))
    }

    /// `Sun, 22 Nov 2026 10:00:00 +0000` (RFC 5322 §3.3; "GMT" is an obsolete zone there).
    public static func rfc5322Date(_ t: Timestamp) -> String {
        var text = t.rfc1123
        text.removeLast(4)
        return text + " +0000"
    }

    /// `To: a@x, b@y`, folded after a comma so that no line passes 78 characters.
    static func folded(_ name: String, items: [String]) -> String {
        var out = name, lineLength = name.count
        for (i, item) in items.enumerated() {
            let piece = item + (i == items.count - 1 ? "" : ",")
            if i > 0 {
                if lineLength + 1 + piece.count > 78 {
                    out += "\r\n "
                    lineLength = 1
                } else {
                    out += " "
                    lineLength += 1
                }
            }
            out += piece
            lineLength += piece.count
        }
        return out + "\r\n"
    }

    /// An unstructured header folded at spaces so that lines stay near 78 characters.
    static func foldedText(_ name: String, _ value: String) -> String {
        var out = name, lineLength = name.count
        for (i, word) in value.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if i > 0 {
                if lineLength + 1 + word.count > 78 && lineLength > 1 {
                    out += "\r\n "
                    lineLength = 1
                } else {
                    out += " "
                    lineLength += 1
                }
            }
            out += word
            lineLength += word.count
        }
        return out + "\r\n"
    }

    /// Plain ASCII stays as it is; anything else becomes RFC 2047 encoded words of at most
    /// 75 characters, split between whole characters.
    static func encodedHeaderText(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) { return text }
        var words: [String] = [], chunk: [UInt8] = []
        // 45 octets of UTF-8 make 60 base64 characters: 72 with "=?utf-8?B?" and "?=".
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: " ")
    }
}

/// Why a notice cannot be composed; recorded as the notice's error, and the notice stays queued.
public struct NoticeProblem: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What Pitstop accepts as an address: `local@domain` in printable ASCII without the
/// characters that would end an SMTP path or a header field. Anything else is refused
/// rather than sent, so a stored address can never inject a command or a header.
public enum Mailbox {
    /// Whether `address` may be used as a sender or a recipient.
    public static func isUsable(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard (3...254).contains(bytes.count), let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at < bytes.count - 1 else { return false }
        return bytes.allSatisfy { $0 > 32 && $0 < 127 && !"<>(),;:\\\"[]".utf8.contains($0) }
            && bytes.filter { $0 == UInt8(ascii: "@") }.count == 1
    }

    /// Characters of a dot-atom (RFC 5322 §3.2.3), as a Message-ID's halves need.
    static func isDotAtomText(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || "!#$%&'*+-/=?^_`{|}~.".utf8.contains(byte)
        }
    }
}

/// Quoted-printable (RFC 2045 §6.7) for text: CRLF line breaks kept as they are, soft breaks
/// keep every encoded line within 76 characters.
public enum QuotedPrintable {
    /// Encodes each line (UTF-8) and ends every one with CRLF.
    public static func encode(lines: [String]) -> String {
        var out = ""
        for line in lines {
            var current = ""
            let bytes = Array(line.utf8)
            for (i, byte) in bytes.enumerated() {
                let last = i == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !last)
                let piece = literal ? String(UnicodeScalar(byte)) : String(format: "=%02X", byte)
                // Leave room for the "=" of a soft break.
                if current.count + piece.count > 75 {
                    out += current + "=\r\n"
                    current = ""
                }
                current += piece
            }
            out += current + "\r\n"
        }
        return out
    }

    /// Decodes quoted-printable text back to bytes (soft breaks removed).
    public static func decode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 48...57: b - 48
            case 65...70: b - 55
            case 97...102: b - 87
            default: nil
            }
        }
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "=") {
                if i + 2 < bytes.count && bytes[i + 1] == 13 && bytes[i + 2] == 10 { i += 3; continue }
                if i + 1 < bytes.count && bytes[i + 1] == 10 { i += 2; continue }
                if i + 2 < bytes.count, let high = hex(bytes[i + 1]), let low = hex(bytes[i + 2]) {
                    out.append(high << 4 | low)
                    i += 3
                    continue
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return out
    }
}
