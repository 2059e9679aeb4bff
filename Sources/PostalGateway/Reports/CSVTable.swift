import Foundation

/// A table written as CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel and
/// LibreOffice read Vietnamese diacritics as written), RFC 4180 quoting, CRLF line ends.
struct CSVTable {
  /// The column names.
  var header: [String]
  /// The rows, each as long as the header.
  var rows: [[String]] = []

  /// The file's bytes.
  var data: Data {
    var text = ""
    for line in [self.header] + self.rows {
      text += line.map(Self.field).joined(separator: ",") + "\r\n"
    }
    return Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)
  }

  /// A field, quoted when it holds a comma, a quote or a line break.
  static func field(_ value: String) -> String {
    guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
      return value
    }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  /// A number with a dot and `digits` decimals, whatever the locale.
  static func number(_ value: Double, digits: Int = 2) -> String {
    String(format: "%.\(digits)f", value)
  }

  /// Writes the file (replacing it).
  func write(to path: String) throws {
    try self.data.write(to: URL(fileURLWithPath: path), options: .atomic)
  }
}
