import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

extension CounterService {
  /// Keeps a queue ticket of the caller's post office, for the counter-wait indicator.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `NOT_FOUND` for an unknown
  ///   `tracking_number`; `ALREADY_EXISTS` for a reused request id or the same ticket with
  ///   other times; `PERMISSION_DENIED` for a caller without a post office.
  func recordQueueTicket(
    request: Postalgateway_V1_RecordQueueTicketRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RecordQueueTicketResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      guard let office = actor.postOffice else {
        throw TrackingError(code: .permissionDenied, message: "the caller has no post office")
      }
      let now = self.clock.now()
      var v = RequestValidator()
      let id = v.check("request_id") { try RequestID(validating: request.requestID) }
      func time(_ field: String, _ present: Bool, _ value: Google_Protobuf_Timestamp) -> Timestamp?
      {
        guard present else {
          v.fail(field, "is required")
          return nil
        }
        return v.check(field) { try Timestamp(value) }
      }
      let issued = time("issued_at", request.hasIssuedAt, request.issuedAt)
      let called = time("called_at", request.hasCalledAt, request.calledAt)
      let number =
        request.trackingNumber.isEmpty
        ? nil
        : v.check("tracking_number") { try TrackingNumber(validating: request.trackingNumber) }
      try v.finish()
      guard let id, let issued, let called else {
        throw TrackingError.invalidField("request", "is malformed")
      }
      let ticket = try QueueTicket(
        postOffice: office,
        number: request.ticketNumber,
        issuedAt: issued,
        calledAt: called,
        trackingNumber: number,
        recordedBy: actor.id,
        now: now
      )
      let key = try self.key(id, request, clearing: \.requestID, context: context, actor: actor)
      let outcome = try await self.queue.record(ticket, key: key)
      return .with {
        $0.waitSeconds = outcome.value.waitSeconds
        $0.created = !outcome.isReplay
      }
    }
  }
}
