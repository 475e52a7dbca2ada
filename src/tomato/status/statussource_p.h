// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QVariantList>
#include <QtCore/QVariantMap>
#include <memory>

namespace Tomato {

class MetricsWriter;

// One part of a node that reports its state: an RpcServer or an RpcClient. The status room
// knows parts only through this interface (it sits below server/ and client/, which register
// their parts), so the pages and the introspection service never reach into either.
//
// Threads: every function is called from any thread (status requests are answered on I/O
// threads, introspection calls on business threads) and must be thread-safe; a part must
// stay usable after its owner is gone (answer empty), since a request may hold it a moment
// longer.
class StatusSource
{
public:
    enum class Kind { Server, Client };
    enum class Readiness {
        Ready,    // serving: listening, and registered when there is a registry
        Starting, // not listening yet, or not registered yet
        Draining, // stopping or stopped
    };

    virtual ~StatusSource();
    virtual Kind kind() const = 0;

    // Servers. Identity fields (docs/STATUS.md#node): microServiceId, stage, group, host,
    // port, addresses, startedAt (ms since the epoch, 0 before start), registry, ...
    virtual QVariantMap identity() const { return {}; }
    virtual QVariantList services() const { return {}; }
    virtual QVariantMap statistics() const { return {}; }
    virtual Readiness readiness() const { return Readiness::Ready; }

    // Clients: their invokers of one micro-service (all with an empty id), flat; each a map
    // whose first fields are Tomato-RPC's (protocol, host, port, microServiceId, stage,
    // group), then the statistics (docs/STATUS.md#invokers).
    virtual QVariantList invokers(const QString &microServiceId) const
    {
        Q_UNUSED(microServiceId);
        return {};
    }

    // Both: its metric families, added to `out` (families with one name merge across parts).
    virtual void writeMetrics(MetricsWriter &out) const = 0;
};

// The parts of this process that report, process-wide: a status page of a client-only
// process (status-port) shows every client in it. Thread-safe.
class StatusSources
{
public:
    static void add(const std::shared_ptr<StatusSource> &source);
    static void remove(const StatusSource *source);
    static QList<std::shared_ptr<StatusSource>> all();
    // Whether a server part was ever added: a process whose servers are all gone is draining,
    // not a client-only process that is ready.
    static bool hadServer();
};

} // namespace Tomato
