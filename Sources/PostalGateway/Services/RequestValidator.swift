import GRPCCore
import Tracking

/// Collects every malformed field of one request, so the caller hears about all of them at once.
struct RequestValidator {
  private(set) var violations: [TrackingError.FieldViolation] = []
  /// Violations kept at most (the error lists fewer, and counts the rest).
  static let maximumKept = 100

  /// Parses one field; on failure records the field's path and the reason and returns `nil`.
  mutating func check<T>(_ field: String, _ parse: () throws -> T) -> T? {
    do {
      return try parse()
    } catch let invalid as InvalidValue {
      self.fail(field, invalid.reason)
    } catch {
      self.fail(field, "is invalid")
    }
    return nil
  }

  /// A free-text field: trimmed of nothing, bounded, and required or not.
  mutating func text(
    _ field: String,
    _ value: String,
    required: Bool,
    maximumLength: Int = 500
  ) -> String? {
    self.check(field) {
      try BoundedText(validating: value, maximumLength: maximumLength, required: required).rawValue
    }
  }

  /// Records a violation found without a parser.
  mutating func fail(_ field: String, _ reason: String) {
    guard self.violations.count < Self.maximumKept else { return }
    self.violations.append(.init(field: field, reason: reason))
  }

  /// Throws `INVALID_ARGUMENT` naming every recorded field, if any.
  func finish() throws {
    if !self.violations.isEmpty { throw TrackingError.invalidArgument(self.violations) }
  }
}

extension ServerContext {
  /// The caller's network address without its port (`ipv4:203.0.113.7`), the key citizens'
  /// attempts are throttled by.
  var clientAddress: String {
    let peer = self.remotePeer
    if peer.hasPrefix("ipv6:["), let close = peer.lastIndex(of: "]") {
      return String(peer[...close])
    }
    if peer.hasPrefix("ipv4:"), let colon = peer.lastIndex(of: ":"), colon > peer.startIndex {
      let address = peer[..<colon]
      return address == "ipv4" ? peer : String(address)
    }
    return peer
  }
}

extension RequestValidator {
  /// The blind-index digest of the person a request names by `applicant_identity_number` (a
  /// citizen id or passport number) or `applicant_phone`: never both; one of them when
  /// `required`.
  mutating func person(
    identityNumber: String,
    phone: String,
    lookup: ShipmentService,
    required: Bool
  ) -> String? {
    switch (identityNumber.isEmpty, phone.isEmpty) {
    case (false, true):
      return self.check("applicant_identity_number") {
        guard (6 ... 20).contains(identityNumber.count) else {
          throw InvalidValue("must be a citizen id or a passport number")
        }
        return try lookup.personFilter(identityNumber: identityNumber)
      }
    case (true, false):
      return self.check("applicant_phone") {
        try lookup.personFilter(phone: try MobileNumber(validating: phone))
      }
    case (false, false):
      self.fail("applicant_phone", "give an identity number or a phone, not both")
    case (true, true):
      if required { self.fail("applicant_identity_number", "is required, or applicant_phone") }
    }
    return nil
  }
}

extension RequestValidator {
  /// A report's period, `from_date` and `to_date` (YYYY-MM-DD, Vietnam dates, inclusive): in
  /// order, at most 366 days.
  mutating func period(from: String, to: String) -> (CivilDate?, CivilDate?) {
    let first = self.check("from_date") { try CivilDate(iso: from) }
    let last = self.check("to_date") { try CivilDate(iso: to) }
    if let first, let last {
      if last < first { self.fail("to_date", "must not be before from_date") }
      if last.daysSinceEpoch - first.daysSinceEpoch > 365 {
        self.fail("to_date", "the period may be at most 366 days")
      }
    }
    return (first, last)
  }
}
