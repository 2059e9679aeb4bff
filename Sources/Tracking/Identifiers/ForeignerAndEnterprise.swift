/// A state's ISO 3166-1 alpha-2 code, as a foreigner's nationality, e.g. `KR`.
public struct Nationality: Hashable, Sendable {
  /// Two capital letters.
  public let rawValue: String

  /// Validates a nationality.
  /// - Parameter string: Two letters (case is ignored).
  /// - Throws: ``InvalidValue`` for a code outside ISO 3166-1, and for `VN`: a Vietnamese
  ///   citizen is identified by the personal identification number, not a passport.
  public init(validating string: String) throws {
    let code = string.uppercased()
    guard Self.codes.contains(code) else {
      throw InvalidValue("must be an ISO 3166-1 alpha-2 country code, e.g. KR")
    }
    guard code != "VN" else {
      throw InvalidValue(
        "is VN: a Vietnamese citizen gives the 12-digit personal identification number instead"
      )
    }
    self.rawValue = code
  }

  /// The 249 officially assigned codes (ISO 3166-1, as distributed by Debian iso-codes 4.15).
  public static let codes: Set<String> = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
    "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
    "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
    "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
    "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
    "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
    "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
    "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
    "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
    "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
  ]
}

/// A passport's document number (ICAO Doc 9303: up to 9 characters, letters and digits).
/// Personal data.
public struct PassportNumber: Hashable, Sendable {
  /// The number, in capitals.
  public let rawValue: String

  /// Validates a passport number.
  /// - Parameter string: 6–9 letters and digits (case is ignored).
  /// - Throws: ``InvalidValue`` otherwise (never echoing the number).
  public init(validating string: String) throws {
    let number = string.uppercased()
    let bytes = number.utf8
    guard (6 ... 9).contains(bytes.count),
      bytes.allSatisfy({ (48 ... 57).contains($0) || (65 ... 90).contains($0) })
    else {
      throw InvalidValue("must be 6–9 letters and digits (ICAO Doc 9303)")
    }
    self.rawValue = number
  }

  /// The first and last two characters, the rest hidden: `M1****67`.
  public var masked: String {
    self.rawValue.prefix(2) + String(repeating: "*", count: max(0, self.rawValue.count - 4))
      + self.rawValue.suffix(2)
  }
}

/// An enterprise code (mã số doanh nghiệp), which is also the tax code: ten digits whose last is
/// a check digit, or for a dependent unit (branch, representative office) the parent's ten digits,
/// a hyphen and three more (Luật Doanh nghiệp 2020 art. 29; Thông tư 105/2020/TT-BTC art. 5).
public struct EnterpriseCode: Hashable, Sendable {
  /// The code as written, e.g. `0102595740` or `0102595740-001`.
  public let rawValue: String

  /// Validates an enterprise code.
  /// - Parameter string: `NNNNNNNNNN` or `NNNNNNNNNN-NNN`.
  /// - Throws: ``InvalidValue`` for another shape, a wrong check digit or a branch number 000.
  public init(validating string: String) throws {
    let parts = string.split(separator: "-", omittingEmptySubsequences: false)
    let isDigits = { (part: Substring) in part.utf8.allSatisfy { (48 ... 57).contains($0) } }
    guard (1 ... 2).contains(parts.count), parts[0].count == 10, isDigits(parts[0]),
      parts.count == 1 || (parts[1].count == 3 && isDigits(parts[1]))
    else {
      throw InvalidValue("must be 10 digits, or 10 digits, a hyphen and 3 digits for a branch")
    }
    guard Self.checkDigitIsValid(Array(parts[0].utf8).map { Int($0) - 48 }) else {
      throw InvalidValue("fails the check digit (the 10th digit)")
    }
    guard parts.count == 1 || parts[1] != "000" else {
      throw InvalidValue("has branch number 000")
    }
    self.rawValue = string
  }

  /// The tenth digit is 10 − (Σ dᵢ·wᵢ mod 11) with weights 31, 29, 23, 19, 17, 13, 7, 5, 3; a
  /// result of 10 is never issued.
  static func checkDigitIsValid(_ digits: [Int]) -> Bool {
    let weights = [31, 29, 23, 19, 17, 13, 7, 5, 3]
    let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
    let check = 10 - sum % 11
    return check < 10 && check == digits[9]
  }
}
