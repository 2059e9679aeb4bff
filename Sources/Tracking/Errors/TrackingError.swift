/// The one error type the domain's operations throw.
///
/// The process maps each ``Code`` to a gRPC status in one place; nothing else in the domain knows
/// about transports. Messages never contain personal data.
public struct TrackingError: Error, Hashable, Sendable, CustomStringConvertible {
  /// What went wrong, as a small extensible set of codes.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable {
      case invalidArgument
      case notFound
      case illegalTransition
      case failedPrecondition
      case permissionDenied
      case requestIDReused
      case throttled
      case exhausted
      case storageFailure
      case conflict
      case unauthenticated
      case dataLoss
      case resourceLimit
      case unknownService
      /// A value that must be unique is already another record's (an agency dossier code).
      case duplicate
    }

    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// One or more fields of the request are malformed; see ``TrackingError/violations``.
    public static let invalidArgument = Self(.invalidArgument)
    /// The shipment does not exist (or the caller may not know that it does).
    public static let notFound = Self(.notFound)
    /// The event is not allowed in the shipment's current state.
    public static let illegalTransition = Self(.illegalTransition)
    /// The operation is not allowed in the shipment's situation (other than its state alone),
    /// e.g. an in-person-only procedure, or a return before two invitations.
    public static let failedPrecondition = Self(.failedPrecondition)
    /// A signature or key does not prove what it must (e.g. a forged handover signature).
    public static let permissionDenied = Self(.permissionDenied)
    /// The request id was already used for a different request.
    public static let requestIDReused = Self(.requestIDReused)
    /// Too many failed attempts; see ``TrackingError/retryAfter``.
    public static let throttled = Self(.throttled)
    /// A finite resource (such as a tracking-number serial range) is used up.
    public static let exhausted = Self(.exhausted)
    /// The store failed; the cause is in ``TrackingError/underlying`` for logs, not for clients.
    public static let storageFailure = Self(.storageFailure)
    /// The shipment changed between the decision and its commit; the decision is retried.
    public static let conflict = Self(.conflict)
    /// The caller has no identity this service recognises.
    public static let unauthenticated = Self(.unauthenticated)
    /// Stored content no longer matches its digest.
    public static let dataLoss = Self(.dataLoss)
    /// A request exceeds a configured limit (size, count, concurrency).
    public static let resourceLimit = Self(.resourceLimit)
    /// A health check named a service this listener does not serve.
    public static let unknownService = Self(.unknownService)
    /// A value that must be unique is already another record's; the message names the field.
    public static let duplicate = Self(.duplicate)

    public var description: String { String(describing: self.wrapped) }
  }

  /// One malformed field.
  public struct FieldViolation: Hashable, Sendable {
    /// The field's path in the request, e.g. `applicant.citizen_id`.
    public var field: String
    /// Why it is refused. Never echoes the value.
    public var reason: String

    /// Creates a violation.
    /// - Parameters:
    ///   - field: The field's path in the request.
    ///   - reason: Why the value is refused.
    public init(field: String, reason: String) {
      self.field = field
      self.reason = reason
    }
  }

  /// What went wrong.
  public var code: Code
  /// A human-readable message, safe to send to the caller.
  public var message: String
  /// For ``Code/invalidArgument``: every malformed field.
  public var violations: [FieldViolation]
  /// For ``Code/throttled``: how long the caller should wait.
  public var retryAfter: Duration?
  /// For ``Code/storageFailure``: the cause, for logs only.
  public var underlying: String?
  /// Where the error was created.
  public var file: String
  /// Where the error was created.
  public var line: Int

  /// Creates an error.
  /// - Parameters:
  ///   - code: What went wrong.
  ///   - message: A message safe to send to the caller.
  public init(
    code: Code,
    message: String,
    violations: [FieldViolation] = [],
    retryAfter: Duration? = nil,
    underlying: String? = nil,
    file: String = #fileID,
    line: Int = #line
  ) {
    self.code = code
    self.message = Self.bounded(message, bytes: Self.maximumMessageBytes)
    self.violations = violations
    self.retryAfter = retryAfter
    self.underlying = underlying
    self.file = file
    self.line = line
  }

  public var description: String {
    "TrackingError(\(self.code)): \(self.message)"
  }
}

extension TrackingError {
  /// The request has malformed fields.
  /// - Parameter violations: Every malformed field; must not be empty.
  /// - Returns: An ``Code/invalidArgument`` error whose message names every field.
  public static func invalidArgument(
    _ violations: [FieldViolation],
    file: String = #fileID,
    line: Int = #line
  ) -> Self {
    precondition(!violations.isEmpty, "an invalid-argument error names at least one field")
    // Small enough for any client's 8 KiB metadata limit, whatever the request held: at most
    // `maximumViolations` fields, each path and reason cut short, values never echoed in full.
    var kept = violations.prefix(Self.maximumViolations).map {
      FieldViolation(
        field: Self.bounded($0.field, bytes: 60),
        reason: Self.bounded($0.reason, bytes: 100)
      )
    }
    let more = violations.count - kept.count
    if more > 0 {
      kept.append(FieldViolation(field: "…", reason: "and \(more) more invalid fields"))
    }
    var message = kept.prefix(3).map { "\($0.field): \($0.reason)" }.joined(separator: "; ")
    if violations.count > 3 { message += "; and \(violations.count - 3) more (see the details)" }
    return Self(
      code: .invalidArgument,
      message: message,
      violations: kept,
      file: file,
      line: line
    )
  }

  /// The most field violations an error carries (more are counted, not listed).
  public static let maximumViolations = 10
  /// The longest message, in UTF-8 bytes.
  public static let maximumMessageBytes = 500

  /// `text` cut to at most `bytes` UTF-8 bytes at a character boundary, with `…` when cut.
  static func bounded(_ text: String, bytes: Int) -> String {
    guard text.utf8.count > bytes else { return text }
    var result = ""
    var used = 0
    for character in text {
      let size = character.utf8.count
      guard used + size <= bytes - 3 else { break }
      result.append(character)
      used += size
    }
    return result + "…"
  }

  /// One field is malformed.
  /// - Parameters:
  ///   - field: The field's path in the request.
  ///   - reason: Why it is refused.
  /// - Returns: An ``Code/invalidArgument`` error.
  public static func invalidField(
    _ field: String,
    _ reason: String,
    file: String = #fileID,
    line: Int = #line
  ) -> Self {
    Self.invalidArgument([FieldViolation(field: field, reason: reason)], file: file, line: line)
  }

  /// No shipment with this number is visible to the caller.
  public static func shipmentNotFound(file: String = #fileID, line: Int = #line) -> Self {
    Self(code: .notFound, message: "no such shipment", file: file, line: line)
  }

  /// The event cannot happen in the current state.
  /// - Parameters:
  ///   - event: The refused event.
  ///   - state: The shipment's current state.
  /// - Returns: An ``Code/illegalTransition`` error.
  public static func illegalTransition(
    _ event: EventKind,
    in state: ShipmentState,
    file: String = #fileID,
    line: Int = #line
  ) -> Self {
    Self(
      code: .illegalTransition,
      message: "event \(event.rawValue) is not allowed in state \(state.rawValue)",
      file: file,
      line: line
    )
  }

  /// The request id was already used for a different request.
  public static func requestIDReused(file: String = #fileID, line: Int = #line) -> Self {
    Self(
      code: .requestIDReused,
      message: "request_id was already used for a different request",
      file: file,
      line: line
    )
  }

  /// The shipment moved on since the decision was made.
  public static func conflict(file: String = #fileID, line: Int = #line) -> Self {
    Self(
      code: .conflict,
      message: "the shipment changed while the request was decided; retry",
      file: file,
      line: line
    )
  }

  /// The store failed.
  /// - Parameter cause: The underlying error, kept for logs.
  public static func storageFailure(
    _ cause: any Error,
    file: String = #fileID,
    line: Int = #line
  ) -> Self {
    Self(
      code: .storageFailure,
      message: "the store is unavailable",
      underlying: String(describing: cause),
      file: file,
      line: line
    )
  }
}

/// Thrown by value parsers (identifiers, names, addresses). It carries no field name; the code
/// that maps a request to domain values adds the field's path and turns it into a
/// ``TrackingError``.
public struct InvalidValue: Error, Hashable, Sendable, CustomStringConvertible {
  /// Why the value is refused. Never echoes the value itself.
  public var reason: String

  /// Creates an invalid-value error.
  /// - Parameter reason: Why the value is refused.
  public init(_ reason: String) {
    self.reason = reason
  }

  public var description: String { self.reason }
}
