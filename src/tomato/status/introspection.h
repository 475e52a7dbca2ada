// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/tomato_export.h>

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QVariantList>
#include <QtCore/QVariantMap>

namespace Tomato {

// The built-in service every RpcServer publishes (unless status-enabled is false): what the
// node is, what it serves and how its calls go. An ordinary Tomato interface: call it with a
// generated stub (tomato_add_stubs on this header), a DynamicStub, the `tomato` command line,
// or by hand in JSON (docs/PROTOCOL.md: service "Tomato::Introspection"). The HTTP status
// pages (docs/STATUS.md) are views of it, so every answer here has the shape of a page there.
//
// Answers are plain JSON-shaped values (maps, lists, strings, numbers), documented field by
// field in docs/STATUS.md; fields may be added, never renamed or removed.
class TOMATO_EXPORT Introspection : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("microServiceId", "tomato-introspection")
    Q_CLASSINFO("idempotent", "node,services,invokers,statistics,metrics")
public:
    using QObject::QObject;
    ~Introspection() override;

    // Who this node is: application, pid, library version, stage, group, micro-service id,
    // addresses, start time and uptime, readiness, registry connection.
    Q_INVOKABLE virtual QVariantMap node() = 0;
    // The interfaces this server publishes: each with its methods (name, signature, return type,
    // arguments with names and types, idempotent), and the interface hash the registry shows.
    Q_INVOKABLE virtual QVariantList services() = 0;
    // The invokers of this node's clients for one micro-service (all of them for an empty id),
    // grouped by stage and then by group, in Tomato-RPC's /tomato/status/invoker shape, each
    // with its statistics (connected, circuit, in flight, calls, errors, latency, weight).
    Q_INVOKABLE virtual QVariantList invokers(const QString &microServiceId) = 0;
    // The server's counters: calls by outcome, connections, queue, bytes, and per method.
    Q_INVOKABLE virtual QVariantMap statistics() = 0;
    // Everything above that is a number, in the Prometheus text exposition format.
    Q_INVOKABLE virtual QString metrics() = 0;
};

} // namespace Tomato
