/// A UPU S10 item identifier issued by the Vietnamese designated operator, e.g. `RR473124829VN`.
///
/// Thirteen characters: a two-letter service indicator, an eight-digit serial, a check digit
/// and the country code `VN`. The check digit weighs the serial digits 8 6 4 2 3 5 9 7; with
/// `S` their weighted sum, `C = 11 − (S mod 11)`, then 10 becomes 0 and 11 becomes 5.
///
/// The check digit covers the serial only: it cannot notice a changed service indicator, and
/// because both remainder 0 and remainder 6 give the digit 5 it cannot tell those two sums
/// apart. Everything else that a single typo can do is caught.
public struct TrackingNumber: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The country code of every number this service accepts.
  public static let countryCode = "VN"

  /// The number as 13 upper-case ASCII characters.
  public let rawValue: String

  /// The two-letter service indicator, e.g. `EA`.
  public var serviceIndicator: ServiceIndicator {
    // The initializers guarantee the first two characters are upper-case letters.
    ServiceIndicator(unchecked: String(self.rawValue.prefix(2)))
  }

  /// The eight-digit serial.
  public var serial: Int {
    let digits = self.rawValue.utf8.dropFirst(2).prefix(8)
    return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
  }

  /// Parses and validates an S10 number.
  /// - Parameter string: Exactly 13 characters, upper case.
  /// - Throws: ``InvalidValue`` when the form, the check digit or the country is wrong.
  public init(validating string: String) throws {
    let bytes = Array(string.utf8)
    guard bytes.count == 13 else {
      throw InvalidValue("must be 13 characters: 2 letters, 9 digits, \(Self.countryCode)")
    }
    guard bytes[0 ..< 2].allSatisfy(Self.isUpperLetter) else {
      throw InvalidValue("must start with a two-letter service indicator (A–Z)")
    }
    guard bytes[2 ..< 11].allSatisfy(Self.isDigit) else {
      throw InvalidValue("characters 3 to 11 must be the 8-digit serial and the check digit")
    }
    guard bytes[11] == UInt8(ascii: "V"), bytes[12] == UInt8(ascii: "N") else {
      throw InvalidValue("must end with the country code \(Self.countryCode)")
    }
    let serial = bytes[2 ..< 10].map { Int($0 - UInt8(ascii: "0")) }
    let check = Int(bytes[10] - UInt8(ascii: "0"))
    guard Self.checkDigit(serialDigits: serial) == check else {
      throw InvalidValue("check digit does not match the serial")
    }
    self.rawValue = string
  }

  /// Mints the number for a serial.
  /// - Parameters:
  ///   - serviceIndicator: The product's service indicator.
  ///   - serial: 0 through 99,999,999.
  public init(serviceIndicator: ServiceIndicator, serial: Int) {
    precondition((0 ... Self.maximumSerial).contains(serial), "S10 serials have 8 digits")
    var digits: [Int] = []
    var rest = serial
    for _ in 0 ..< 8 {
      digits.append(rest % 10)
      rest /= 10
    }
    digits.reverse()
    let check = Self.checkDigit(serialDigits: digits)
    self.rawValue =
      serviceIndicator.rawValue + digits.map(String.init).joined() + String(check)
      + Self.countryCode
  }

  /// The largest serial an S10 number can carry.
  public static let maximumSerial = 99_999_999

  /// The S10 check digit of eight serial digits.
  /// - Parameter serialDigits: Exactly eight values in 0...9.
  /// - Returns: The check digit, 0...9.
  public static func checkDigit(serialDigits: [Int]) -> Int {
    precondition(serialDigits.count == 8, "S10 serials have 8 digits")
    let weights = [8, 6, 4, 2, 3, 5, 9, 7]
    let sum = zip(serialDigits, weights).reduce(0) { $0 + $1.0 * $1.1 }
    switch 11 - sum % 11 {
    case 10: return 0
    case 11: return 5
    case let digit: return digit
    }
  }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

  public var description: String { self.rawValue }

  private static func isUpperLetter(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "A") ... UInt8(ascii: "Z")).contains(byte)
  }

  private static func isDigit(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(byte)
  }
}

/// The two-letter S10 service indicator the service mints numbers with (configuration, since
/// which ranges VNPost uses for administrative dossiers is not published).
public struct ServiceIndicator: Hashable, Sendable, CustomStringConvertible {
  /// Two upper-case ASCII letters.
  public let rawValue: String

  /// Validates a service indicator.
  /// - Parameter string: Two upper-case letters A–Z.
  /// - Throws: ``InvalidValue`` otherwise.
  public init(validating string: String) throws {
    let bytes = Array(string.utf8)
    guard bytes.count == 2, bytes.allSatisfy({ (65 ... 90).contains($0) }) else {
      throw InvalidValue("must be two upper-case letters A–Z")
    }
    self.rawValue = string
  }

  init(unchecked string: String) {
    self.rawValue = string
  }

  public var description: String { self.rawValue }
}
