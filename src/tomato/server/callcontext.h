// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/tomato_export.h>

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QString>
#include <chrono>

namespace Tomato {

struct ServerCall;

// What a service method can know about the call it is answering: who called, with which
// deadline, trace id and context entries, and whether the caller still wants the answer.
// The server makes one for every call and hands it to the method through current():
//
//     QString EchoImpl::echo(const QString &text)
//     {
//         const auto *call = Tomato::CallContext::current();
//         qInfo() << call->traceId() << call->peer() << call->timeLeft().count() << "ms left";
//         for (const Chunk &c : work) {
//             if (call->isCancelled())
//                 throw Tomato::RpcError(Tomato::RpcError::Cancelled, "given up");
//             ...
//         }
//     }
//
// Threads: valid on the thread running the method, for as long as the method runs; do not
// keep the pointer. Reading it is thread-safe (a method may hand the values to helpers).
class TOMATO_EXPORT CallContext
{
public:
    // The call this thread is running, or null outside a service method.
    static const CallContext *current();

    QString service() const;  // the interface's qualified name, e.g. "Sample::EchoService"
    QString method() const;   // e.g. "echo"

    // The caller's deadline (its timeout, from when the request arrived); without one,
    // hasDeadline() is false, deadline() is time_point::max() and timeLeft() is max().
    bool hasDeadline() const;
    std::chrono::steady_clock::time_point deadline() const;
    std::chrono::milliseconds timeLeft() const; // 0 once passed
    // True once nobody will read the answer, so a long method may stop early: the caller
    // cancelled the call (an RpcClient that is destroyed cancels what it abandons), the
    // connection was reset or closed by the server, or the deadline passed. A peer that only
    // shut down its sending side may still read its answers: its calls go on until the
    // server's drain-timeout-ms gives up on it.
    bool isCancelled() const;

    QByteArray traceId() const;              // `trace-id`, empty when the caller sent none
    QHash<QString, QString> context() const; // the `ctx.<key>` entries, by key without "ctx."
    QString context(const QString &key) const;

    // Who called: "tcp://10.0.0.7:51234", "tls://...", "unix (pid 42, uid 1000)".
    QString peer() const;
    // Over mutual TLS, the subject and common name of the caller's verified certificate
    // ("CN=billing,O=Acme", "billing"); empty otherwise.
    QString peerSubject() const;
    QString peerCommonName() const;

    CallContext(const CallContext &) = delete;
    CallContext &operator=(const CallContext &) = delete;

private:
    friend class ServerCore;
    explicit CallContext(const ServerCall &call);
    ~CallContext();
    const ServerCall &m_call;
    const CallContext *m_outer; // the context this one hides (a call run inside a call)
};

} // namespace Tomato
