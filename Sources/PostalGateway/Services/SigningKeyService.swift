import Foundation
import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

/// Registration of the Ed25519 keys staff devices and agency systems co-sign handovers with.
struct SigningKeyService {
  let handovers: HandoverVerifier
  let identities: any IdentityResolver
  let clock: any WallClock
  let logger: Logger
}

extension SigningKeyService: Postalgateway_V1_SigningKeyService.SimpleServiceProtocol {
  /// Registers the caller's key.
  ///
  /// - Throws: `INVALID_ARGUMENT` for a malformed key; `ALREADY_EXISTS` when another identity
  ///   registered it.
  func registerSigningKey(
    request: Postalgateway_V1_RegisterSigningKeyRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_SigningKey {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.identities.partnerActor(of: context)
      let key = try await self.handovers.register(
        publicKey: Array(request.publicKey),
        for: actor,
        now: self.clock.now()
      )
      self.logger.info(
        "signing key registered",
        metadata: ["caller.id": "\(actor.id)", "key.id": "\(key.keyID)"]
      )
      return Postalgateway_V1_SigningKey(key)
    }
  }

  /// The keys of an identity (the caller's by default).
  func listSigningKeys(
    request: Postalgateway_V1_ListSigningKeysRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ListSigningKeysResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.identities.partnerActor(of: context)
      let owner = request.owner.isEmpty ? actor.id : request.owner
      let keys = try await self.handovers.keys(of: owner)
      return .with { $0.keys = keys.map(Postalgateway_V1_SigningKey.init) }
    }
  }
}
