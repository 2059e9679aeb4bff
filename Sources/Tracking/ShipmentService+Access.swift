extension ShipmentService {
  /// Staff give a citizen who lost their verification code a new one, after checking who they
  /// are: the old code stops working in the same write, which also appends
  /// `VERIFICATION_CODE_REISSUED` (custody-logged, without the code) and lifts the number's
  /// tracking lockout.
  /// - Returns: The event, and the new code (shown once; a retry with the same key returns the
  ///   code in force).
  /// - Throws: ``TrackingError`` `.notFound`, `.requestIDReused`, `.storageFailure`.
  public func reissueVerificationCode(
    _ number: TrackingNumber,
    context: EventContext,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> (recorded: RecordedEvent, code: VerificationCode) {
    var generator = SystemRandomNumberGenerator()
    let (_, commitment) = self.codes.issue(using: &generator)
    let recorded = try await self.appendEvents(
      to: number,
      context: context,
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now,
      newCommitment: commitment
    ) { _ in [PlannedEvent(.verificationCodeReissued)] }
    self.throttle.unlock(number.rawValue)
    guard recorded.isReplay else { return (recorded, self.codes.code(for: commitment)) }
    // A retry: the code in force (the one this request issued, unless another came since).
    return (recorded, self.codes.code(for: try await self.stored(number).commitment))
  }

  /// Staff lift a number's tracking lockout and slowdown after checking the citizen:
  /// `TRACKING_UNLOCKED`, custody-logged.
  /// - Throws: ``TrackingError`` `.notFound`, `.requestIDReused`, `.storageFailure`.
  public func unlockTracking(
    _ number: TrackingNumber,
    context: EventContext,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    let recorded = try await self.append(
      to: number,
      context: context,
      by: actor,
      idempotencyKey: idempotencyKey,
      now: now
    ) { _ in [PlannedEvent(.trackingUnlocked)] }
    self.throttle.unlock(number.rawValue)
    return recorded
  }
}

extension ShipmentService {
  /// The tracking attempts the throttle has refused since start (for the operator's metrics).
  public var trackingRefusals: TrackingThrottle.Refusals { self.throttle.refusals }
}
