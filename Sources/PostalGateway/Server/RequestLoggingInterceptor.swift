import GRPCCore
import Logging

/// Logs each RPC at `debug`: the method, the outcome and how long it took. Never a message's
/// contents (they carry personal data).
struct RequestLoggingInterceptor: ServerInterceptor {
  let logger: Logger

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next:
      @Sendable (StreamingServerRequest<Input>, ServerContext) async throws ->
      StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    let start = ContinuousClock.now
    do {
      let response = try await next(request, context)
      self.logger.debug(
        "rpc",
        metadata: [
          "rpc.method": "\(context.descriptor.fullyQualifiedMethod)",
          "rpc.status": "\(response.accepted.statusCode)",
          "rpc.duration": "\(start.duration(to: .now))",
        ]
      )
      return response
    } catch {
      let code = (error as? any RPCErrorConvertible)?.rpcErrorCode ?? .unknown
      self.logger.debug(
        "rpc",
        metadata: [
          "rpc.method": "\(context.descriptor.fullyQualifiedMethod)",
          "rpc.status": "\(code)",
          "rpc.duration": "\(start.duration(to: .now))",
        ]
      )
      throw error
    }
  }
}

extension Result where Failure == RPCError {
  fileprivate var statusCode: String {
    switch self {
    case .success: "ok"
    case .failure(let error): "\(error.code)"
    }
  }
}
