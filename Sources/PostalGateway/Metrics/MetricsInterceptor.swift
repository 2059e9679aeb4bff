import GRPCCore

/// Counts every call of a listener by method and status and records how long it took, from its
/// arrival to its status (a stream's whole life). The outermost interceptor, so that calls the
/// other interceptors refuse are counted too.
struct MetricsInterceptor: ServerInterceptor {
  let listener: String
  let metrics: GatewayMetrics

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next:
      @Sendable (StreamingServerRequest<Input>, ServerContext) async throws ->
      StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    let start = ContinuousClock.now
    let record = { @Sendable (code: Status.Code) in
      self.metrics.callEnded(
        listener: self.listener,
        method: context.descriptor,
        code: code,
        duration: start.duration(to: .now)
      )
    }
    let response: StreamingServerResponse<Output>
    do {
      response = try await next(request, context)
    } catch {
      record(Self.code(of: error))
      throw error
    }
    switch response.accepted {
    case .success(var contents):
      // The status is known when the response body has been written (or has failed).
      let producer = contents.producer
      contents.producer = { writer in
        do {
          let trailers = try await producer(writer)
          record(.ok)
          return trailers
        } catch {
          record(Self.code(of: error))
          throw error
        }
      }
      return StreamingServerResponse(accepted: .success(contents))
    case .failure(let error):
      record(Status.Code(error.code))
      return response
    }
  }

  /// The status an error is sent as.
  static func code(of error: any Error) -> Status.Code {
    if let error = error as? RPCError { return Status.Code(error.code) }
    if let error = error as? any RPCErrorConvertible { return Status.Code(error.rpcErrorCode) }
    return .unknown
  }
}
