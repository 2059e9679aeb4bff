import GRPCCore
import Logging
import Tracking

/// Refuses every RPC the caller's role may not make, before any handler runs.
///
/// No identity → `UNAUTHENTICATED`; a role the table does not allow → `PERMISSION_DENIED`.
struct AuthorizationInterceptor: ServerInterceptor {
  let resolver: any IdentityResolver
  let policy: AuthorizationPolicy
  let logger: Logger

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next:
      @Sendable (StreamingServerRequest<Input>, ServerContext) async throws ->
      StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    guard let identity = self.resolver.identity(of: context) else {
      self.logger.info(
        "refused: no usable identity",
        metadata: ["rpc.method": "\(context.descriptor.fullyQualifiedMethod)"]
      )
      throw TrackingError(
        code: .unauthenticated,
        message: "the client certificate carries no PostalGateway identity"
      ).status
    }
    guard self.policy.allows(identity.role, context.descriptor) else {
      self.logger.info(
        "refused: role not allowed",
        metadata: [
          "rpc.method": "\(context.descriptor.fullyQualifiedMethod)",
          "caller.role": "\(identity.role.rawValue)",
        ]
      )
      throw TrackingError(
        code: .permissionDenied,
        message: "role \(identity.role.rawValue) may not call \(context.descriptor.method)"
      ).status
    }
    return try await next(request, context)
  }
}
