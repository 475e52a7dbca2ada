// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <chrono>
#include <memory>

namespace Tomato {

// What a load-balancing policy sees of one instance (an Invoker implements it). Every value
// may change between calls; read each once per select().
class Candidate
{
public:
    virtual ~Candidate();
    // Stable identity of the instance: "host:port" (or the address), for hashing and for
    // per-instance state inside a policy.
    virtual const QString &key() const = 0;
    // The instance's weight now, warm-up and live overrides applied; always >= 1.
    virtual int effectiveWeight() const = 0;
    // Calls sent to it that have not ended yet.
    virtual int inFlight() const = 0;
};

// What a policy may know about the call being placed.
struct CallInfo
{
    // consistent-hash: the key the caller set (CallOptions::setHashKey), else the encoded
    // first argument; empty when the method has none (then any instance will do).
    QByteArray hashKey;
};

// How a call to an instance ended, as a policy's feedback() sees it.
enum class Outcome { Success, ApplicationError, InstanceFailure };

// Chooses the instance of each call among the usable candidates of a service (open-circuit,
// disconnected, draining and disabled instances are already left out). One object per
// service of a client; select() and feedback() are called from any thread at once, so
// implementations are thread-safe. Policies are found by name (create()); a new one is a
// class in this folder and a line in create() (as brpc's policy/ folder).
class LoadBalancer
{
public:
    virtual ~LoadBalancer();
    virtual QString name() const = 0;
    // Index of the chosen candidate in `candidates` (never empty).
    virtual qsizetype select(const QList<Candidate *> &candidates, const CallInfo &call) = 0;
    // How a call this policy placed ended. Default: nothing.
    virtual void feedback(const Candidate &candidate, Outcome outcome, std::chrono::microseconds latency);

    // The policy called `name` ("random", "round-robin", "least-in-flight",
    // "consistent-hash"), or null. names(): those known, in that order.
    static std::unique_ptr<LoadBalancer> create(const QString &name);
    static QStringList names();
};

} // namespace Tomato
