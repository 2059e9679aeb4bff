import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

extension CounterService {
  /// Records a dossier item by the code of a paper digitized earlier for the same applicant.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `NOT_FOUND` (shipment or code);
  ///   `PERMISSION_DENIED` for another applicant's paper; `FAILED_PRECONDITION`;
  ///   `ALREADY_EXISTS` for a reused request id with another body.
  func reusePaper(
    request: Postalgateway_V1_ReusePaperRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ReusePaperResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      var v = RequestValidator()
      let id = v.check("request_id") { try RequestID(validating: request.requestID) }
      let number = v.check("tracking_number") {
        try TrackingNumber(validating: request.trackingNumber)
      }
      if request.documentID.isEmpty { v.fail("document_id", "is required") }
      if request.documentCode.isEmpty {
        v.fail("document_code", "is required")
      } else if request.documentCode.utf8.count > 200 {
        v.fail("document_code", "is longer than 200 bytes")
      }
      try v.finish()
      guard let id, let number else { throw TrackingError.invalidField("request", "is malformed") }
      let key = try self.key(id, request, clearing: \.requestID, context: context, actor: actor)
      let (recorded, scan) = try await self.shipments.reusePaper(
        PaperReuse(
          trackingNumber: number,
          documentID: request.documentID,
          documentCode: request.documentCode
        ),
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      let answer = try await self.itemAnswer(recorded, scan, of: number, actor: actor)
      return .with { ($0.scan, $0.shipment, $0.created) = answer }
    }
  }
}
