/// A national administrative-procedure code (mã TTHC), `D.DDDDDD`, e.g. `1.001234`.
public struct ProcedureCode: Hashable, Sendable, CustomStringConvertible {
  /// The code as written.
  public let rawValue: String

  /// Validates a procedure code.
  /// - Parameter string: A digit 1–9, a dot and six digits.
  /// - Throws: ``InvalidValue`` otherwise.
  public init(validating string: String) throws {
    guard ASCIIPattern.matches(string, "N.DDDDDD") else {
      throw InvalidValue("must have the form D.DDDDDD (e.g. 1.001234)")
    }
    self.rawValue = string
  }

  public var description: String { self.rawValue }
}

/// An agency identifier under QCVN 102:2016/BTTTT, `DDD.DD.DD.LDD`, e.g. `000.00.00.H55`
/// (the Thái Nguyên People's Committee).
public struct AgencyCode: Hashable, Sendable, CustomStringConvertible {
  /// The code as written.
  public let rawValue: String

  /// Validates an agency code.
  /// - Parameter string: Three digits, two digits, two digits, then a capital letter and two
  ///   digits, separated by dots.
  /// - Throws: ``InvalidValue`` otherwise.
  public init(validating string: String) throws {
    guard ASCIIPattern.matches(string, "DDD.DD.DD.LDD") else {
      throw InvalidValue("must have the QCVN 102 form DDD.DD.DD.LDD (e.g. 000.00.00.H55)")
    }
    self.rawValue = string
  }

  public var description: String { self.rawValue }
}

/// A VNPost post office (bưu cục) code: six digits, e.g. `250000`.
public struct PostOfficeCode: Hashable, Sendable, CustomStringConvertible {
  /// The six digits.
  public let rawValue: String

  /// Validates a post office code.
  /// - Parameter string: Six ASCII digits.
  /// - Throws: ``InvalidValue`` otherwise.
  public init(validating string: String) throws {
    guard ASCIIPattern.matches(string, "DDDDDD") else {
      throw InvalidValue("must be six digits")
    }
    self.rawValue = string
  }

  public var description: String { self.rawValue }
}

/// A post-2025 province code: two digits, e.g. `19` (Thái Nguyên).
public struct ProvinceCode: Hashable, Sendable, CustomStringConvertible {
  /// The two digits.
  public let rawValue: String

  /// Validates a province code.
  /// - Parameter string: Two ASCII digits, not `00`.
  /// - Throws: ``InvalidValue`` otherwise.
  public init(validating string: String) throws {
    guard ASCIIPattern.matches(string, "DD"), string != "00" else {
      throw InvalidValue("must be two digits, 01–99")
    }
    self.rawValue = string
  }

  public var description: String { self.rawValue }
}

/// A commune or ward code: five digits.
public struct CommuneCode: Hashable, Sendable, CustomStringConvertible {
  /// The five digits.
  public let rawValue: String

  /// Validates a commune code.
  /// - Parameter string: Five ASCII digits.
  /// - Throws: ``InvalidValue`` otherwise.
  public init(validating string: String) throws {
    guard ASCIIPattern.matches(string, "DDDDD") else {
      throw InvalidValue("must be five digits")
    }
    self.rawValue = string
  }

  public var description: String { self.rawValue }
}

/// A client-chosen idempotency key: 1–128 printable ASCII characters.
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
  /// The key as sent.
  public let rawValue: String

  /// Validates a request id.
  /// - Parameter string: 1–128 characters between `!` and `~`.
  /// - Throws: ``InvalidValue`` otherwise.
  public init(validating string: String) throws {
    let bytes = string.utf8
    guard !bytes.isEmpty else { throw InvalidValue("is required (e.g. a UUID)") }
    guard bytes.count <= 128, bytes.allSatisfy({ (33 ... 126).contains($0) }) else {
      throw InvalidValue("must be 1–128 printable ASCII characters without spaces")
    }
    self.rawValue = string
  }

  public var description: String { self.rawValue }
}

/// Matches ASCII strings against a template where `D` is a digit, `N` a digit 1–9, `L` an
/// upper-case letter and any other character stands for itself.
enum ASCIIPattern {
  static func matches(_ string: String, _ template: StaticString) -> Bool {
    let bytes = Array(string.utf8)
    let pattern = template.withUTF8Buffer { Array($0) }
    guard bytes.count == pattern.count else { return false }
    for (byte, rule) in zip(bytes, pattern) {
      switch rule {
      case UInt8(ascii: "D"):
        guard (48 ... 57).contains(byte) else { return false }
      case UInt8(ascii: "N"):
        guard (49 ... 57).contains(byte) else { return false }
      case UInt8(ascii: "L"):
        guard (65 ... 90).contains(byte) else { return false }
      default:
        guard byte == rule else { return false }
      }
    }
    return true
  }
}

/// A seal (niêm phong) number: 1–32 of A–Z, 0–9 and `-`.
public struct SealID: Hashable, Sendable, CustomStringConvertible {
  /// The number as printed on the seal.
  public let rawValue: String

  /// Validates a seal number.
  /// - Throws: ``InvalidValue`` otherwise.
  public init(validating string: String) throws {
    let bytes = string.utf8
    guard !bytes.isEmpty, bytes.count <= 32,
      bytes.allSatisfy({
        (48 ... 57).contains($0) || (65 ... 90).contains($0) || $0 == UInt8(ascii: "-")
      })
    else {
      throw InvalidValue("must be 1–32 of A–Z, 0–9 and '-'")
    }
    self.rawValue = string
  }

  public var description: String { self.rawValue }
}

/// The number of an identity paper shown at delivery. Personal data: kept only hashed and masked.
public struct IdentityNumber: Hashable, Sendable {
  /// The number as shown.
  public let rawValue: String

  /// Validates an identity number for its paper type: a citizen id card carries a 12-digit
  /// citizen id; other papers 6–20 letters and digits.
  /// - Throws: ``InvalidValue`` otherwise.
  public init(validating string: String, type: IdentityDocumentType, currentYear: Int) throws {
    switch type {
    case .citizenIDCard:
      self.rawValue = try CitizenID(validating: string, currentYear: currentYear).rawValue
    case .passport, .identityCard, .other:
      let bytes = string.utf8
      guard (6 ... 20).contains(bytes.count),
        bytes.allSatisfy({ (48 ... 57).contains($0) || (65 ... 90).contains($0) })
      else {
        throw InvalidValue("must be 6–20 capital letters and digits")
      }
      self.rawValue = string
    }
  }

  /// The first and last three characters, the rest hidden: `019******123`.
  public var masked: String {
    self.rawValue.prefix(3) + String(repeating: "*", count: max(0, self.rawValue.count - 6))
      + self.rawValue.suffix(3)
  }
}

/// A lower-case hex SHA-256 digest (64 characters), as clients send for signatures and photos.
public enum SHA256Hex {
  /// Validates and lower-cases a digest.
  /// - Throws: ``InvalidValue`` unless it is 64 hex digits.
  public static func validate(_ string: String) throws -> String {
    let lower = string.lowercased()
    guard lower.utf8.count == 64,
      lower.utf8.allSatisfy({ (48 ... 57).contains($0) || (97 ... 102).contains($0) })
    else {
      throw InvalidValue("must be a SHA-256 digest: 64 hex digits")
    }
    return lower
  }
}
