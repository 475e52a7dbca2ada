// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/client/stub.h>
#include <tomato/wire/message_p.h>

#include <chrono>
#include <functional>
#include <memory>

namespace Tomato {

// An encoded request on its way to an instance: the frame being built (extension with
// service, method, timeout-ms, ...; the body encoded in place), waiting for its connection to
// compress it, give it a message id and write its header (ClientSession::send).
struct OutgoingCall
{
    OutgoingCall() = default;
    explicit OutgoingCall(qsizetype reserve) : frame(reserve) {} // bytes expected after the header
    Serialization serialization = Serialization::Binary;
    FrameBuilder frame;
    std::chrono::steady_clock::time_point deadline;
    std::unique_ptr<PendingCall> pending;
    quint64 messageId = 0;   // given by the connection
    bool posted = false;     // handed to a connection's outbox (false: failed before, never sent)
    // What the cluster channel needs to place, judge and retry the call:
    QByteArray method;       // the method's name
    bool idempotent = false; // the interface's Q_CLASSINFO("idempotent") names it
    QByteArray hashKey;      // consistent-hash key: CallOptions::hashKey(), else the first argument
                             // (filled only when the channel wantsHashKey())
    // Called by finishCall() before the pending call learns the outcome; returning true means
    // it took the call over (a retry on another instance): the pending call is not completed.
    std::function<bool(OutgoingCall &call, const RpcError *error)> onFinish;
    // For the debug log only, and only while tomato.client debug logging is on:
    QByteArray label;        // "Sample::EchoService.echo"
    std::chrono::steady_clock::time_point sentAt;
};

// A request's frame begun: the extension prefix (requestPrefix()), timeout-ms, trace-id and
// ctx.* entries written, the deadline set; the caller appends the body and fills the rest.
std::unique_ptr<OutgoingCall> startRequest(QByteArrayView extensionPrefix, Serialization serialization,
                                           std::chrono::milliseconds timeout, const CallOptions &options);
// "service:<escaped>&method:<escaped>"
QByteArray requestPrefix(QByteArrayView service, QByteArrayView method);

// Completes the call: its result is in place (error null) or it failed; one debug line in
// tomato.client when that is on. `where`: the address or service it went to.
void finishCall(OutgoingCall &call, const QString &where, const RpcError *error);

} // namespace Tomato
