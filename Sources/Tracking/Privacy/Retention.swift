/// How long personal data is kept, per record class, and the law it follows.
///
/// Circular 17/2017/TT-BTTTT art. 14.3 has the postal service keep electronic records of the
/// public-administration service at least 5 years, counted from the day the dossier was
/// accepted (paper records at least 1 year). Once a shipment's period is over and nothing more
/// can happen to it, its personal data is erased (crypto-shredding: its data key is destroyed);
/// the shipment keeps its states, times and custody leaves.
public struct RetentionPolicy: Hashable, Sendable {
  /// Days an applicant's personal data (fields, notes, event details, scans, rating comment)
  /// is kept after registration. Default 1,827 (5 years with their leap days).
  public var applicantDays: Int = Self.legalMinimumDays
  /// Days a device's offline events (requests as sent, applicant data included) are kept.
  public var deviceEventDays: Int = Self.legalMinimumDays

  /// Five years (TT 17/2017 art. 14.3, electronic records), leap days included.
  public static let legalMinimumDays = 1827
  /// The rule the default follows.
  public static let source =
    "Thông tư 17/2017/TT-BTTTT, Điều 14 khoản 3 (hồ sơ điện tử: ít nhất 5 năm)"

  /// Creates the default policy.
  public init() {}

  /// The registration time before which a final shipment's data is due for erasure at `now`.
  public func applicantCutoff(now: Timestamp) -> Timestamp {
    now.advanced(by: .seconds(-Int64(self.applicantDays) * 86_400))
  }

  /// The receipt time before which a device event's payload is due for erasure at `now`.
  public func deviceEventCutoff(now: Timestamp) -> Timestamp {
    now.advanced(by: .seconds(-Int64(self.deviceEventDays) * 86_400))
  }
}

extension ShipmentService {
  /// Erases a shipment's personal data: appends `PERSONAL_DATA_ERASED` (custody-logged,
  /// carrying none of the data) in the same write that destroys the shipment's data key and
  /// its blind-index digests. States, times and every proof stay. The event's actor says why:
  /// the service's retention sweep, or the operator who acted on a lawful request.
  /// - Returns: The event (with the scans whose files can now be removed).
  /// - Throws: ``TrackingError`` `.failedPrecondition` when the shipment can still move (it
  ///   is erased once final) or is erased already; `.notFound`; `.requestIDReused`.
  public func erasePersonalData(
    _ number: TrackingNumber,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    try await self.commitEvents(
      to: number,
      idempotencyKey: idempotencyKey,
      now: now,
      erasesPersonalData: true
    ) { stored in
      let shipment = stored.shipment
      guard shipment.personalDataErasedAt == nil else {
        throw TrackingError(
          code: .failedPrecondition,
          message: "the shipment's personal data was erased already"
        )
      }
      guard shipment.state.isFinal else {
        throw TrackingError(
          code: .failedPrecondition,
          message:
            "the shipment is \(shipment.state.rawValue) and can still move; its personal data is erased once it is final"
        )
      }
      return [
        ShipmentEvent(
          sequence: shipment.version + 1,
          kind: .personalDataErased,
          fromState: shipment.state,
          toState: shipment.state,
          occurredAt: now,
          recordedAt: now,
          actor: actor.id,
          location: shipment.originPostOffice,
          note: nil,
          details: nil,
          handover: nil
        )
      ]
    }
  }
}
