// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QAbstractListModel>
#include <QtCore/QVariantList>
#include <QtQml/qqmlregistration.h>

#include <tomato/registry/instanceinfo.h>
#include <tomato/registry/registry.h>

#include <functional>
#include <optional>

namespace Tomato {

class ClusterView;
class HealthPoller;

// The instances (invokers) of one micro-service, sorted by stage, group and address, so that a
// ListView sectioned on `section` shows them grouped by stage, then group. Rows are inserted,
// removed and changed one by one as the registry and the health poller report: selection and
// scroll survive updates.
//
// Roles: stage, group, section ("stage/group"), address ("host:port"), host, port,
// transport ("tcp"/"tls"), weight (registered), overrideWeight (-1: none), effectiveWeight
// (override, warm-up and disabling applied), disabled, warmupPercent (0..100), uptimeSeconds,
// startedAt (ms since the epoch, 0 unknown), interfaceHash, hashMismatch (differs from most
// instances of the service), state ("healthy", "starting", "draining", "overloaded",
// "disabled", "not-answering", "unknown"), stateReason, callsPerSecond, errorRate (0..1),
// p99Ms (-1: no calls), inFlight, actionRefusal (why the operator's actions on it are refused,
// "" when allowed).
//
// `sections`: one map per stage/group in row order: {section, stage, group, count,
// healthy, firstInStage, stageCount}: what the section headings show.
//
// Threads: the GUI thread.
class InvokerModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by Dashboard")
    Q_PROPERTY(QString microServiceId READ microServiceId NOTIFY microServiceIdChanged)
    Q_PROPERTY(QVariantList sections READ sections NOTIFY sectionsChanged)
    Q_PROPERTY(int count READ count NOTIFY sectionsChanged)
public:
    enum Role {
        StageRole = Qt::UserRole + 1, GroupRole, SectionRole, AddressRole, HostRole, PortRole, TransportRole,
        WeightRole, OverrideWeightRole, EffectiveWeightRole, DisabledRole, WarmupPercentRole, UptimeSecondsRole,
        StartedAtRole, InterfaceHashRole, HashMismatchRole, StateRole, StateReasonRole, CallsPerSecondRole,
        ErrorRateRole, P99MsRole, InFlightRole, ActionRefusalRole
    };
    InvokerModel(ClusterView *cluster, HealthPoller *poller, QObject *parent = nullptr);
    // Clients ramp a new instance's weight up over this time (warmup-seconds).
    void setWarmupSeconds(int seconds) { m_warmupSeconds = seconds; }
    // Why actions on the instances of a stage are refused ("" when allowed): the actionRefusal
    // role; refusalsChanged() when the answers may have changed.
    void setRefusal(std::function<QString(const QString &stage)> refusal) { m_refusal = std::move(refusal); }
    void refusalsChanged();

    QString microServiceId() const { return m_service; }
    void setMicroServiceId(const QString &id);
    QVariantList sections() const { return m_sections; }
    int count() const { return int(m_rows.size()); }
    QStringList addresses() const;
    // Row of an instance of this service in a stage, -1 if none.
    Q_INVOKABLE int rowOf(const QString &stage, const QString &address) const;
    // Warm-up and uptime move with time: refresh those roles (once a second).
    void tick();
    // The state the model gives an instance (docs/DASHBOARD.md#states): disabled by override,
    // else what its status pages say.
    static QString stateOf(bool disabled, const QString &polledState);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

Q_SIGNALS:
    void microServiceIdChanged();
    void sectionsChanged();

private:
    struct Row
    {
        InstanceInfo info;
        std::optional<InstanceOverride> override;
        QString key() const;
    };
    void onEntryChanged(const QString &microServiceId, const QString &stage);
    void onHealthChanged(const QString &address);
    void syncStage(const QString &stage);
    void updateSections();
    QVariant value(const Row &row, int role) const;

    ClusterView *m_cluster;
    HealthPoller *m_poller;
    QString m_service;
    QString m_majorityHash;
    std::vector<Row> m_rows;
    QVariantList m_sections;
    int m_warmupSeconds = 30;
    std::function<QString(const QString &stage)> m_refusal;
};

} // namespace Tomato
