/// A Vietnamese mobile number, normalized to E.164 (`+84` and nine digits).
///
/// Accepts `0xxxxxxxxx`, `84xxxxxxxxx` and `+84xxxxxxxxx`, with spaces, dots or dashes between
/// digits. The two digits after the leading 0 must be an allocated mobile prefix. Personal
/// data: never log it; show it only through ``masked``.
public struct MobileNumber: Hashable, Sendable {
  /// The allocated mobile prefixes (the two digits after the national 0), as published after
  /// the 2018–2019 move to ten digits: Viettel 32–39, 86, 96–98; MobiFone 70, 76–79, 89, 90,
  /// 93; VinaPhone 81–85, 88, 91, 94; Vietnamobile 52, 56, 58, 92; Gmobile 59, 99; Itelecom 87.
  public static let defaultPrefixes: Set<String> = [
    "32", "33", "34", "35", "36", "37", "38", "39", "86", "96", "97", "98",
    "70", "76", "77", "78", "79", "89", "90", "93",
    "81", "82", "83", "84", "85", "88", "91", "94",
    "52", "56", "58", "92", "59", "99", "87",
  ]

  /// `+84` followed by nine digits.
  public let e164: String

  /// Parses and normalizes a mobile number.
  /// - Parameters:
  ///   - string: The number as typed.
  ///   - prefixes: The allocated two-digit prefixes.
  /// - Throws: ``InvalidValue`` when it is not a Vietnamese mobile number.
  public init(validating string: String, prefixes: Set<String> = Self.defaultPrefixes) throws {
    var text = Substring(string)
    let plus = text.first == "+"
    if plus { text = text.dropFirst() }
    var digits: [UInt8] = []
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "0") ... UInt8(ascii: "9"): digits.append(byte)
      case UInt8(ascii: " "), UInt8(ascii: "."), UInt8(ascii: "-"): continue
      default: throw InvalidValue("may contain only digits, a leading +, spaces, dots or dashes")
      }
    }
    let national: ArraySlice<UInt8>
    if !plus, digits.count == 10, digits.first == UInt8(ascii: "0") {
      national = digits.dropFirst()
    } else if digits.count == 11, digits.starts(with: [UInt8(ascii: "8"), UInt8(ascii: "4")]) {
      national = digits.dropFirst(2)
    } else {
      throw InvalidValue("must be 0 and 9 digits, or +84 and 9 digits")
    }
    let prefix = String(decoding: national.prefix(2), as: UTF8.self)
    guard prefixes.contains(prefix) else {
      throw InvalidValue("0\(prefix) is not an allocated Vietnamese mobile prefix")
    }
    self.e164 = "+84" + String(decoding: national, as: UTF8.self)
  }

  /// The number in national form, `0` and nine digits.
  public var national: String { "0" + self.e164.dropFirst(3) }

  /// The national form with the middle four digits hidden, e.g. `091****678`.
  public var masked: String {
    let national = self.national
    return national.prefix(3) + "****" + national.suffix(3)
  }
}
