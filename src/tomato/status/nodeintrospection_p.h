// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/status/introspection.h>
#include <tomato/status/statussource_p.h>

namespace Tomato {

// The Introspection service of a node, built on its status parts (StatusSources): the server
// it is published by (or, for the status port of a process, every server of the process) and
// every client of the process. Stateless apart from that: thread-safe, so it is published on
// the business pool and read by the status pages on I/O threads at the same time.
class NodeIntrospection final : public Introspection
{
    Q_OBJECT
public:
    // `server`: the part whose services and counters this reports; none: every server part.
    explicit NodeIntrospection(std::weak_ptr<StatusSource> server = {}, QObject *parent = nullptr);
    ~NodeIntrospection() override;

    QVariantMap node() override;
    QVariantList services() override;
    QVariantList invokers(const QString &microServiceId) override;
    QVariantMap statistics() override;
    QString metrics() override;

    QByteArray metricsText() const;
    StatusSource::Readiness readiness() const;
    static QString readinessName(StatusSource::Readiness readiness);

private:
    QList<std::shared_ptr<StatusSource>> servers() const;
    static QList<std::shared_ptr<StatusSource>> clients();

    const bool m_forOneServer;
    const std::weak_ptr<StatusSource> m_server;
};

} // namespace Tomato
