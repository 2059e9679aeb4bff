import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

extension OperatorService {
  /// Erases a final shipment's personal data on a lawful request.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `NOT_FOUND`; `FAILED_PRECONDITION` while
  ///   the shipment can still move or once erased; `ALREADY_EXISTS` for a reused request id.
  func erasePersonalData(
    request: Postalgateway_V1_ErasePersonalDataRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ErasePersonalDataResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.identities.partnerActor(of: context)
      var v = RequestValidator()
      let id = v.check("request_id") { try RequestID(validating: request.requestID) }
      let number = v.check("tracking_number") {
        try TrackingNumber(validating: request.trackingNumber)
      }
      try v.finish()
      guard let id, let number else { throw TrackingError.invalidField("request", "is malformed") }
      let key = try RequestFingerprint.key(
        id,
        request,
        clearing: \.requestID,
        context: context,
        caller: actor
      )
      let recorded = try await self.shipments.erasePersonalData(
        number,
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      for sha256 in recorded.erasedScans { await self.blobs.remove(sha256: sha256) }
      self.logger.notice(
        "personal data erased on request",
        metadata: [
          "shipment.tracking_number": "\(number)", "caller": "\(actor.id)",
          "scans": "\(recorded.erasedScans.count)",
        ]
      )
      return .with {
        $0.event = Postalgateway_V1_ShipmentEvent(recorded.event)
        $0.scansErased = Int32(clamping: recorded.erasedScans.count)
      }
    }
  }

  /// Corrects the applicant's personal data at the data subject's request.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field (or when nothing differs); `NOT_FOUND`;
  ///   `FAILED_PRECONDITION` once erased; `ALREADY_EXISTS` for a reused request id.
  func correctPersonalData(
    request: Postalgateway_V1_CorrectPersonalDataRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_CorrectPersonalDataResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.identities.partnerActor(of: context)
      let now = self.clock.now()
      var v = RequestValidator()
      let id = v.check("request_id") { try RequestID(validating: request.requestID) }
      let number = v.check("tracking_number") {
        try TrackingNumber(validating: request.trackingNumber)
      }
      let applicant =
        request.hasApplicant
        ? request.applicant.domain(at: "applicant", currentYear: now.yearInVietnam, validator: &v)
        : {
          v.fail("applicant", "is required")
          return nil
        }()
      let reason = v.check("reason") {
        try BoundedText(validating: request.reason, maximumLength: 500, required: true)
      }
      try v.finish()
      guard let id, let number, let applicant, let reason else {
        throw TrackingError.invalidField("request", "is malformed")
      }
      let key = try RequestFingerprint.key(
        id,
        request,
        clearing: \.requestID,
        context: context,
        caller: actor
      )
      let recorded = try await self.shipments.correctPersonalData(
        number,
        to: applicant,
        reason: reason,
        by: actor,
        idempotencyKey: key,
        now: now
      )
      self.logger.notice(
        "personal data corrected on request",
        metadata: ["shipment.tracking_number": "\(number)", "caller": "\(actor.id)"]
      )
      return .with { $0.event = Postalgateway_V1_ShipmentEvent(recorded.event) }
    }
  }

  /// Makes a new key-encryption key active and rewraps the data keys in the background.
  func rotateKeyEncryptionKey(
    request: Postalgateway_V1_RotateKeyEncryptionKeyRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_EncryptionStatus {
    try await mappingErrors(self.logger, method: context.descriptor) {
      Postalgateway_V1_EncryptionStatus(try await self.rotator().rotate())
    }
  }

  /// Starts replacing data keys; the values are sealed again in the background.
  func rotateDataKeys(
    request: Postalgateway_V1_RotateDataKeysRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_EncryptionStatus {
    try await mappingErrors(self.logger, method: context.descriptor) {
      guard (0 ... 36_500).contains(request.olderThanDays) else {
        throw TrackingError.invalidField("older_than_days", "must be 0 to 36500")
      }
      return Postalgateway_V1_EncryptionStatus(
        try await self.rotator().rotateDataKeys(olderThanDays: Int(request.olderThanDays))
      )
    }
  }

  /// The key-encryption keys and the data keys under each.
  func getEncryptionStatus(
    request: Postalgateway_V1_GetEncryptionStatusRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_EncryptionStatus {
    try await mappingErrors(self.logger, method: context.descriptor) {
      Postalgateway_V1_EncryptionStatus(try await self.rotator().status())
    }
  }
}

extension Postalgateway_V1_EncryptionStatus {
  init(_ status: KeyRotator.Status) {
    self.init()
    self.activeKeyID = status.activeKeyID
    self.keyIds = status.keyIDs
    self.dataKeys = status.dataKeys.mapValues(Int64.init)
    self.rewrapping = status.rewrapping
    self.dataKeysToReplace = Int64(status.dataKeysToReplace)
  }
}

extension OperatorService {
  /// The key rotator, or FAILED_PRECONDITION where there is none.
  private func rotator() throws -> KeyRotator {
    guard let rotator = self.keyRotator else {
      throw TrackingError(
        code: .failedPrecondition,
        message: "key rotation runs on the SQLite store only; this gateway serves from PostgreSQL"
      )
    }
    return rotator
  }
}
