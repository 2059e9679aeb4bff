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
