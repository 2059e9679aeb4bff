import Tracking

/// Collects every malformed field of one request, so the caller hears about all of them at once.
struct RequestValidator {
  private(set) var violations: [TrackingError.FieldViolation] = []

  /// Parses one field; on failure records the field's path and the reason and returns `nil`.
  mutating func check<T>(_ field: String, _ parse: () throws -> T) -> T? {
    do {
      return try parse()
    } catch let invalid as InvalidValue {
      self.violations.append(.init(field: field, reason: invalid.reason))
    } catch {
      self.violations.append(.init(field: field, reason: "is invalid"))
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
    self.violations.append(.init(field: field, reason: reason))
  }

  /// Throws `INVALID_ARGUMENT` naming every recorded field, if any.
  func finish() throws {
    if !self.violations.isEmpty { throw TrackingError.invalidArgument(self.violations) }
  }
}
