import Foundation
import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

/// The public custody log: checkpoints, proofs, entries, and citizens' receipts.
struct CustodyService {
  let log: CustodyLog
  let checkpointer: Checkpointer
  let citizen: CitizenDesk
  let verifierKey: String
  let clock: any WallClock
  let logger: Logger
}

extension CustodyService: Postalgateway_V1_CustodyService.SimpleServiceProtocol {
  /// The latest signed checkpoint.
  ///
  /// - Throws: `NOT_FOUND` before the first one.
  func getCheckpoint(
    request: Postalgateway_V1_GetCheckpointRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_SignedCheckpoint {
    try await mappingErrors(self.logger, method: context.descriptor) {
      guard let latest = try await self.checkpointer.latestCheckpoint() else {
        throw TrackingError(code: .notFound, message: "no checkpoint has been signed yet")
      }
      return Postalgateway_V1_SignedCheckpoint(latest, verifierKey: self.verifierKey)
    }
  }

  /// An inclusion proof.
  ///
  /// - Throws: `INVALID_ARGUMENT` for a leaf or size outside the log.
  func getInclusionProof(
    request: Postalgateway_V1_GetInclusionProofRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_InclusionProof {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var size = request.treeSize
      if size == 0 {
        guard let latest = try await self.checkpointer.latestCheckpoint() else {
          throw TrackingError(code: .notFound, message: "no checkpoint has been signed yet")
        }
        size = latest.checkpoint.size
      }
      let proof = try await self.log.inclusionProof(index: request.leafIndex, size: size)
      return .with {
        $0.leafIndex = request.leafIndex
        $0.treeSize = size
        $0.hashes = proof.map { Data($0) }
      }
    }
  }

  /// A consistency proof.
  ///
  /// - Throws: `INVALID_ARGUMENT` unless 0 < first ≤ second ≤ the log's size.
  func getConsistencyProof(
    request: Postalgateway_V1_GetConsistencyProofRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ConsistencyProof {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let proof = try await self.log.consistencyProof(
        first: request.firstSize,
        second: request.secondSize
      )
      return .with {
        $0.firstSize = request.firstSize
        $0.secondSize = request.secondSize
        $0.hashes = proof.map { Data($0) }
      }
    }
  }

  /// Leaf data.
  func getEntries(
    request: Postalgateway_V1_GetEntriesRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_GetEntriesResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let entries = try await self.log.entries(start: request.start, count: Int(request.count))
      return .with {
        $0.start = request.start
        $0.entries = entries.map { Data($0) }
      }
    }
  }

  /// A shipment's receipt: its entries with inclusion proofs against a signed checkpoint that
  /// covers them all (waiting up to the checkpoint interval for one), and its salt.
  ///
  /// - Throws: as `TrackShipment`.
  func getReceipt(
    request: Postalgateway_V1_GetReceiptRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_Receipt {
    try await mappingErrors(self.logger, method: context.descriptor) {
      try await self.citizen.receipt(
        CitizenRequest(
          trackingNumber: request.trackingNumber,
          verificationCode: request.verificationCode
        ),
        client: context.clientAddress
      )
    }
  }
}
