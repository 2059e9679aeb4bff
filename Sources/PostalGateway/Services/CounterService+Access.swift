import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

extension CounterService {
  /// A new verification code for a citizen who lost theirs.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `NOT_FOUND`; `ALREADY_EXISTS`.
  func reissueVerificationCode(
    request: Postalgateway_V1_ReissueVerificationCodeRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ReissueVerificationCodeResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      let (requestID, number) = try Self.access(request.requestID, request.trackingNumber)
      let key = try self.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        actor: actor
      )
      let (recorded, code) = try await self.shipments.reissueVerificationCode(
        number,
        context: EventContext(),
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      self.logRecorded(recorded, actor: actor)
      return .with {
        $0.shipment = Postalgateway_V1_Shipment(recorded.shipment)
        $0.event = Postalgateway_V1_ShipmentEvent(recorded.event)
        $0.verificationCode = code.description
      }
    }
  }

  /// Lifts a number's tracking lockout.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `NOT_FOUND`; `ALREADY_EXISTS`.
  func unlockTracking(
    request: Postalgateway_V1_UnlockTrackingRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RecordEventResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      let (requestID, number) = try Self.access(request.requestID, request.trackingNumber)
      let key = try self.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        actor: actor
      )
      let recorded = try await self.shipments.unlockTracking(
        number,
        context: EventContext(),
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      self.logRecorded(recorded, actor: actor)
      return Postalgateway_V1_RecordEventResponse(recorded)
    }
  }

  /// The request id and the tracking number of an access request.
  private static func access(
    _ requestID: String,
    _ trackingNumber: String
  ) throws -> (RequestID, TrackingNumber) {
    var v = RequestValidator()
    let id = v.check("request_id") { try RequestID(validating: requestID) }
    let number = v.check("tracking_number") { try TrackingNumber(validating: trackingNumber) }
    try v.finish()
    guard let id, let number else { throw TrackingError.invalidField("request", "is malformed") }
    return (id, number)
  }
}
