/// A correction of the applicant's personal data at the data subject's request (the right to
/// correction: Decree 13/2023/NĐ-CP art. 9.4; Law 91/2025/QH15 on personal data protection, in
/// force since 1/1/2026): the applicant as it should be, which of its fields changed, and why.
///
/// It rides on a `PERSONAL_DATA_CORRECTED` event: the store replaces the shipment's sealed
/// fields and blind-index digests with the new ones in the same write, the event keeps the new
/// values sealed under the shipment's data key (erased with it), and its custody leaf commits
/// to them with the shipment's salt, as the registration committed to the first ones.
public struct PersonalDataCorrection: Hashable, Sendable {
  /// The groups of fields that changed, by their wire names.
  public var fields: [String]
  /// Why (the request's reference; may name the person, so it is sealed like a note).
  public var reason: String
  /// The applicant after the correction.
  public var applicant: Applicant

  /// Creates a correction.
  public init(fields: [String], reason: String, applicant: Applicant) {
    self.fields = fields
    self.reason = reason
    self.applicant = applicant
  }

  /// The groups of fields in which two applicants differ, in a fixed order.
  public static func changedFields(from old: Applicant, to new: Applicant) -> [String] {
    var fields: [String] = []
    if old.name != new.name { fields.append("full_name") }
    if old.identity != new.identity { fields.append("identity") }
    if old.phone != new.phone { fields.append("phone") }
    if old.address != new.address { fields.append("address") }
    if old.organisation != new.organisation { fields.append("organisation") }
    if old.authorizedPerson != new.authorizedPerson { fields.append("authorized_person") }
    return fields
  }
}

extension ShipmentService {
  /// Corrects the applicant's personal data: appends `PERSONAL_DATA_CORRECTED` in the write
  /// that replaces the stored applicant and the digests staff find the shipment by.
  /// - Parameters:
  ///   - number: The shipment.
  ///   - applicant: The applicant as it should be (validated as at registration).
  ///   - reason: Why (required).
  ///   - actor: The operator acting on the request.
  ///   - idempotencyKey: The request's key; a retry returns the original event.
  ///   - now: The current time.
  /// - Throws: ``TrackingError``: `.invalidArgument` for an address outside the map or when
  ///   nothing differs; `.notFound`; `.failedPrecondition` once the data was erased.
  public func correctPersonalData(
    _ number: TrackingNumber,
    to applicant: Applicant,
    reason: BoundedText,
    by actor: Actor,
    idempotencyKey: IdempotencyKey,
    now: Timestamp
  ) async throws -> RecordedEvent {
    let violations = self.addressViolations(applicant.address, at: "applicant.address")
    guard violations.isEmpty else { throw TrackingError.invalidArgument(violations) }
    let digests = self.blindIndex?.digests(of: applicant)
    return try await self.commitEvents(
      to: number,
      idempotencyKey: idempotencyKey,
      now: now,
      lookupDigests: digests
    ) { stored in
      let shipment = stored.shipment
      guard shipment.personalDataErasedAt == nil else {
        throw TrackingError(
          code: .failedPrecondition,
          message: "the shipment's personal data was erased: there is nothing left to correct"
        )
      }
      let fields = PersonalDataCorrection.changedFields(from: shipment.applicant, to: applicant)
      guard !fields.isEmpty else {
        throw TrackingError.invalidField("applicant", "is the one stored: nothing to correct")
      }
      let correction = PersonalDataCorrection(
        fields: fields,
        reason: reason.rawValue,
        applicant: applicant
      )
      return [
        ShipmentEvent(
          sequence: shipment.version + 1,
          kind: .personalDataCorrected,
          fromState: shipment.state,
          toState: shipment.state,
          occurredAt: now,
          recordedAt: now,
          actor: actor.id,
          location: shipment.originPostOffice,
          note: nil,
          details: .personalDataCorrection(correction),
          handover: nil
        )
      ]
    }
  }
}
