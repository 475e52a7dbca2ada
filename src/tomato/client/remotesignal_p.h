// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/rpcerror.h>
#include <tomato/core/serialization.h>

#include <QtCore/QByteArray>
#include <QtCore/QString>
#include <memory>

namespace Tomato {

// What receives the events of one remote-signal subscription (docs/SIGNALS.md). Called on the
// I/O thread of the connection to the instance that sent them, never under a library lock;
// events of one instance arrive in the order it emitted them. Thread-safe implementations.
class SignalSink
{
public:
    virtual ~SignalSink();
    // The instance confirmed the subscription. `again`: it is a re-subscription after the
    // connection was lost, so events emitted in between were missed.
    virtual void subscribed(const QString &instance, bool again) = 0;
    // One event: its number in the subscription (1, 2, ...), and the arguments as they travelled.
    virtual void delivered(const QString &instance, quint64 seq, Serialization serialization, QByteArray &&body) = 0;
    // The instance refused the subscription, or ended it (it fell behind, the service was
    // unpublished): no more events from there until the application subscribes anew.
    virtual void ended(const QString &instance, const RpcError &error) = 0;
};

// A signal to subscribe to, and where its events go.
struct SignalTarget
{
    QByteArray service; // the interface's class name
    QByteArray signal;  // the signal's name
    Serialization serialization = Serialization::Binary;
    std::shared_ptr<SignalSink> sink;
};

// A subscription through a channel: destroying it unsubscribes (from every instance).
// Any thread.
class SignalSubscription
{
public:
    virtual ~SignalSubscription();
};

} // namespace Tomato
