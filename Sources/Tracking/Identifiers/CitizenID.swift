/// A Vietnamese personal identification number (số định danh cá nhân, printed on the CCCD).
///
/// Twelve digits laid out `PPP G YY RRRRRR`: the province where the birth was registered, a
/// digit giving century and sex, the last two digits of the birth year and six random digits.
/// There is no check digit. Personal data: never log it, never show it unmasked.
public struct CitizenID: Hashable, Sendable {
  /// The twelve digits.
  public let rawValue: String

  /// Validates a citizen id.
  /// - Parameters:
  ///   - string: Twelve ASCII digits.
  ///   - currentYear: This year in Vietnam; the birth year may not be after it.
  /// - Throws: ``InvalidValue`` naming what is wrong (never echoing the number).
  public init(validating string: String, currentYear: Int) throws {
    let bytes = Array(string.utf8)
    if bytes.count == 9, bytes.allSatisfy({ (48 ... 57).contains($0) }) {
      throw InvalidValue(
        "is a 9-digit CMND, which lost its validity on 1/1/2025 (Luật Căn cước 2023 art. 46.3); give the 12-digit personal identification number"
      )
    }
    guard bytes.count == 12, bytes.allSatisfy({ (48 ... 57).contains($0) }) else {
      throw InvalidValue("must be exactly 12 digits")
    }
    let digits = bytes.map { Int($0) - 48 }
    let province = digits[0] * 100 + digits[1] * 10 + digits[2]
    guard ProvinceOfBirth.codes.contains(province) else {
      throw InvalidValue("the first three digits are not a province code in the published set")
    }
    let century = 1900 + (digits[3] / 2) * 100
    let birthYear = century + digits[4] * 10 + digits[5]
    guard birthYear <= currentYear else {
      throw InvalidValue("the century/sex digit and birth year give a birth year in the future")
    }
    self.rawValue = string
  }

  /// The first three and last three digits, the rest hidden: `019******123`.
  public var masked: String {
    self.rawValue.prefix(3) + "******" + self.rawValue.suffix(3)
  }

  /// The province-of-birth-registration code, e.g. 19 for Thái Nguyên.
  public var provinceOfBirth: Int { Int(self.rawValue.prefix(3))! }  // 12 validated digits

  /// The year of birth the number encodes.
  public var birthYear: Int {
    let digits = self.rawValue.utf8.map { Int($0) - 48 }
    return 1900 + (digits[3] / 2) * 100 + digits[4] * 10 + digits[5]
  }
}

/// The codes of the 63 pre-2025 provinces used as the first three digits of a citizen id
/// (Circular 59/2021/TT-BCA, the same numbers as the 2004 province codes). Provinces merged in
/// 2025 keep their codes: the number records where a birth was registered.
public enum ProvinceOfBirth {
  /// Every published code.
  public static let codes: Set<Int> = [
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36,
    37, 38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74,
    75, 77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
  ]
}
