import GRPCCore
import Proto
import SwiftProtobuf
import Tracking

extension OversightService {
  /// Reads of unmasked personal data, newest first, filtered by shipment and caller.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming a malformed number, page size or token; `UNAVAILABLE`.
  func listAccessRecords(
    request: Postalgateway_V1_ListAccessRecordsRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ListAccessRecordsResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      var query = AccessQuery()
      if !request.trackingNumber.isEmpty {
        query.trackingNumber = v.check("tracking_number") {
          try TrackingNumber(validating: request.trackingNumber)
        }
      }
      if !request.actor.isEmpty { query.actor = request.actor }
      if request.pageSize < 0 || request.pageSize > 500 {
        v.fail("page_size", "must be between 0 and 500")
      } else if request.pageSize > 0 {
        query.limit = Int(request.pageSize)
      }
      if !request.pageToken.isEmpty {
        query.before = v.check("page_token") {
          guard let sequence = Int64(request.pageToken), sequence > 0 else {
            throw InvalidValue("is not a token this RPC gave")
          }
          return sequence
        }
      }
      try v.finish()
      let records = try await self.audit.records(matching: query)
      return .with {
        $0.records = records.map(Postalgateway_V1_AccessRecord.init)
        $0.nextPageToken =
          records.count == query.limit ? records.last.map { "\($0.sequence)" } ?? "" : ""
      }
    }
  }
}

extension Postalgateway_V1_AccessRecord {
  init(_ record: AccessRecord) {
    self.init()
    self.sequence = record.sequence
    self.at = record.at.proto
    self.actor = record.actor
    self.trackingNumber = record.trackingNumber.rawValue
    self.read =
      switch record.read {
      case .shipment: .shipment
      case .listing: .listing
      case .scan: .scan
      case .dossier: .dossier
      }
    self.purpose = record.purpose
    self.documentCode = record.documentCode ?? ""
  }
}
