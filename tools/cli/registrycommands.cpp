// SPDX-License-Identifier: Apache-2.0
// tomato list and tomato override: the registry's tree, read once, and operators' overrides.
#include "registryaccess.h"
#include "table.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSet>

#include <algorithm>

namespace Cli {

using Tomato::ConsumerInfo;
using Tomato::InstanceInfo;
using Tomato::InstanceOverride;
using Tomato::RegistryServiceEntry;

namespace {

// ---- list ---------------------------------------------------------------------------------

QJsonObject parsed(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

std::optional<InstanceOverride> overrideAt(const RegistryServiceEntry &entry, const QString &address)
{
    const auto it = entry.overrides.constFind(address);
    return it == entry.overrides.cend() ? std::nullopt : std::optional<InstanceOverride>(*it);
}

// The entries to show: the service id argument, --stage and --group applied.
QList<RegistryServiceEntry> selected(QList<RegistryServiceEntry> entries, const Invocation &invocation)
{
    const QString service = invocation.arguments.value(0);
    const QString stage = invocation.global.stage;
    const QString group = invocation.global.group;
    QList<RegistryServiceEntry> out;
    for (RegistryServiceEntry &entry : entries) {
        if ((!service.isEmpty() && entry.microServiceId != service) || (!stage.isEmpty() && entry.stage != stage))
            continue;
        if (!group.isEmpty()) {
            entry.providers.removeIf([&](const InstanceInfo &i) { return i.group() != group; });
            entry.consumers.removeIf([&](const ConsumerInfo &c) { return c.group != group; });
        }
        out.append(entry);
    }
    return out;
}

QJsonArray listJson(const QList<RegistryServiceEntry> &entries)
{
    QJsonArray out;
    for (const RegistryServiceEntry &entry : entries) {
        QJsonArray providers, consumers;
        QJsonObject overrides;
        for (const InstanceInfo &instance : entry.providers) {
            QJsonObject json = parsed(instance.toJson());
            const auto value = overrideAt(entry, instance.address());
            json.insert(QStringLiteral("override"), value ? QJsonValue(parsed(value->toJson())) : QJsonValue());
            providers.append(json);
        }
        for (const ConsumerInfo &consumer : entry.consumers)
            consumers.append(parsed(consumer.toJson()));
        for (auto it = entry.overrides.cbegin(); it != entry.overrides.cend(); ++it)
            overrides.insert(it.key(), parsed(it->toJson()));
        out.append(QJsonObject{{QStringLiteral("microServiceId"), entry.microServiceId},
                               {QStringLiteral("stage"), entry.stage},
                               {QStringLiteral("providers"), providers},
                               {QStringLiteral("consumers"), consumers},
                               {QStringLiteral("overrides"), overrides}});
    }
    return out;
}

void printSection(const QString &title, const Table &table)
{
    printLine(title + QLatin1Char(':'));
    if (table.isEmpty())
        printLine(QStringLiteral("  (none)"));
    else
        table.print(2);
}

void printList(const QList<RegistryServiceEntry> &entries)
{
    Table instances({QStringLiteral("SERVICE"), QStringLiteral("STAGE"), QStringLiteral("GROUP"), QStringLiteral("ADDRESS"),
                     QStringLiteral("WEIGHT"), QStringLiteral("STARTED"), QStringLiteral("VERSION"), QStringLiteral("OVERRIDE")});
    Table consumers({QStringLiteral("SERVICE"), QStringLiteral("STAGE"), QStringLiteral("GROUP"), QStringLiteral("HOST"),
                     QStringLiteral("PID"), QStringLiteral("APPLICATION"), QStringLiteral("VERSION")});
    Table orphans({QStringLiteral("SERVICE"), QStringLiteral("STAGE"), QStringLiteral("ADDRESS"), QStringLiteral("OVERRIDE")});
    for (const RegistryServiceEntry &e : entries) {
        QSet<QString> registered;
        for (const InstanceInfo &i : e.providers) {
            registered.insert(i.address());
            instances.addRow({e.microServiceId, e.stage, i.group(), i.endpoint().toString(), QString::number(i.weight()),
                              timeText(i.startTime()), i.version().isEmpty() ? QStringLiteral("-") : i.version(),
                              overrideText(overrideAt(e, i.address()))});
        }
        for (const ConsumerInfo &c : e.consumers)
            consumers.addRow({e.microServiceId, e.stage, c.group, c.host, QString::number(c.pid),
                              c.application.isEmpty() ? QStringLiteral("-") : c.application, c.version});
        QStringList addresses = e.overrides.keys();
        addresses.sort();
        for (const QString &address : std::as_const(addresses)) {
            if (!registered.contains(address))
                orphans.addRow({e.microServiceId, e.stage, address, overrideText(overrideAt(e, address))});
        }
    }
    printSection(QStringLiteral("instances"), instances);
    printSection(QStringLiteral("consumers"), consumers);
    if (!orphans.isEmpty())
        printSection(QStringLiteral("overrides of instances not registered"), orphans);
}

int runList(const Invocation &invocation)
{
    const auto registry = openZooKeeper(invocation.global);
    const QList<RegistryServiceEntry> entries = selected(readTree(*registry, invocation.global), invocation);
    if (invocation.global.json)
        printLine(jsonText(listJson(entries), false));
    else
        printList(entries);
    return Success;
}

// ---- override -----------------------------------------------------------------------------

// host:port of an instance (a tcp:// or tls:// address is accepted too).
QString instanceAddress(const QString &text)
{
    QString error;
    const Tomato::Endpoint endpoint = Tomato::Endpoint::fromString(text, QStringLiteral("tcp"), &error);
    if (!endpoint.isValid() || endpoint.hasPath() || endpoint.port() == 0)
        throw Failure(UsageError, QStringLiteral("override: '%1' is not an instance's host:port%2")
                                      .arg(text, error.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(error)));
    return endpoint.authority();
}

void checkOverrideOptions(const QCommandLineParser &parser)
{
    const bool weight = parser.isSet(QStringLiteral("weight")), disable = parser.isSet(QStringLiteral("disable")),
               enable = parser.isSet(QStringLiteral("enable")), clear = parser.isSet(QStringLiteral("clear"));
    if (!weight && !disable && !enable && !clear)
        throw Failure(UsageError, QStringLiteral("override: say what to change: --weight N, --disable, --enable or --clear"));
    if (clear && (weight || disable || enable))
        throw Failure(UsageError, QStringLiteral("override: --clear goes alone"));
    if (disable && enable)
        throw Failure(UsageError, QStringLiteral("override: --disable or --enable, not both"));
    bool ok = true;
    const int value = weight ? parser.value(QStringLiteral("weight")).toInt(&ok) : 100;
    if (!ok || value < 1 || value > 1000)
        throw Failure(UsageError, QStringLiteral("override: --weight: '%1' is not an integer from 1 to 1000")
                                      .arg(parser.value(QStringLiteral("weight"))));
}

// The options applied to the current override: the new one, or none when nothing is left to
// override (the node goes).
std::optional<InstanceOverride> wanted(const QCommandLineParser &parser, const std::optional<InstanceOverride> &current)
{
    if (parser.isSet(QStringLiteral("clear")))
        return std::nullopt;
    InstanceOverride value = current ? *current : InstanceOverride();
    if (parser.isSet(QStringLiteral("weight")))
        value.weight = parser.value(QStringLiteral("weight")).toInt();
    if (parser.isSet(QStringLiteral("disable")))
        value.disabled = true;
    if (parser.isSet(QStringLiteral("enable")))
        value.disabled = false;
    if (!value.weight && !value.disabled)
        return std::nullopt;
    return value;
}

const RegistryServiceEntry *findEntry(const QList<RegistryServiceEntry> &tree, const QString &service, const QString &stage)
{
    for (const RegistryServiceEntry &entry : tree) {
        if (entry.microServiceId == service && entry.stage == stage)
            return &entry;
    }
    return nullptr;
}

// --stage, else every stage in which the instance is registered.
QStringList overrideStages(const QList<RegistryServiceEntry> &tree, const QString &service, const QString &address,
                           const QString &stage)
{
    if (!stage.isEmpty())
        return {stage};
    QStringList stages;
    for (const RegistryServiceEntry &entry : tree) {
        const bool there = std::any_of(entry.providers.cbegin(), entry.providers.cend(),
                                       [&](const InstanceInfo &i) { return i.address() == address; });
        if (entry.microServiceId == service && there)
            stages << entry.stage;
    }
    if (stages.isEmpty())
        throw Failure(UsageError, QStringLiteral("override: no instance of %1 is registered at %2: name the stage with --stage")
                                      .arg(service, address));
    return stages;
}

// Removes the override and checks that it is gone: ZooKeeper answers one session's requests
// in order, so a read sent after the removal sees it.
void clearAndCheck(Tomato::ZooKeeperRegistry &registry, const GlobalOptions &options, const QString &service,
                   const QString &stage, const QString &address)
{
    registry.clearOverride(service, stage, address);
    const QList<RegistryServiceEntry> tree = readTree(registry, options);
    const RegistryServiceEntry *entry = findEntry(tree, service, stage);
    if (entry && entry->overrides.contains(address))
        throw Failure(RemoteFailure, QStringLiteral("the override of %1 in %2 at %3 is still there (written again "
                                                    "meanwhile, or ZooKeeper refused the removal: see --verbose)")
                                         .arg(service, stage, address));
}

// Writes the override and waits until the registry's watch reads it back.
void writeAndWait(Tomato::ZooKeeperRegistry &registry, const GlobalOptions &options, const QString &service,
                  const QString &stage, const QString &address, const InstanceOverride &value)
{
    registry.subscribe(service, stage);
    const auto visible = [&] {
        const Tomato::InstanceOverrides now = registry.overrides(service, stage);
        return now.contains(address) && now.value(address) == value;
    };
    EventWait wait(options.deadline);
    QObject::connect(&registry, &Tomato::Registry::overridesChanged, &wait, [&] {
        if (visible())
            wait.quit();
    });
    registry.setOverride(service, stage, address, value);
    if (!visible() && !wait.exec())
        throw Failure(Unreachable, QStringLiteral("the override of %1 in %2 at %3 was not visible within %4 ms "
                                                  "(a write ZooKeeper refused is logged with --verbose)")
                                       .arg(service, stage, address)
                                       .arg(options.timeoutMs));
}

int runOverride(const Invocation &invocation)
{
    const QString service = invocation.arguments.at(0);
    const QString address = instanceAddress(invocation.arguments.at(1));
    checkOverrideOptions(*invocation.parser);
    const auto registry = openZooKeeper(invocation.global);
    const QList<RegistryServiceEntry> tree = readTree(*registry, invocation.global);
    QJsonArray report;
    for (const QString &stage : overrideStages(tree, service, address, invocation.global.stage)) {
        const RegistryServiceEntry *entry = findEntry(tree, service, stage);
        const auto value = wanted(*invocation.parser, entry ? overrideAt(*entry, address) : std::nullopt);
        if (value)
            writeAndWait(*registry, invocation.global, service, stage, address, *value);
        else
            clearAndCheck(*registry, invocation.global, service, stage, address);
        if (!invocation.global.json)
            printLine(QStringLiteral("%1 %2 %3: %4").arg(service, stage, address,
                                                         value ? overrideText(value) : QStringLiteral("no override")));
        report.append(QJsonObject{{QStringLiteral("microServiceId"), service},
                                  {QStringLiteral("stage"), stage},
                                  {QStringLiteral("address"), address},
                                  {QStringLiteral("override"), value ? QJsonValue(parsed(value->toJson())) : QJsonValue()}});
    }
    if (invocation.global.json)
        printLine(jsonText(report, false));
    return Success;
}

} // namespace

Command listCommand()
{
    Command c;
    c.name = QStringLiteral("list");
    c.arguments = {{QStringLiteral("service-id"), QStringLiteral("Only this micro-service."), QStringLiteral("[service-id]")}};
    c.summary = QStringLiteral("Lists micro-services, stages, groups, instances and consumers from ZooKeeper.");
    c.description = QStringLiteral(
        "Reads the whole registry tree once and prints its instances (address, weight, start time,\n"
        "override), its consumers, and overrides of instances that are not registered. --stage and\n"
        "--group show only those; --json prints [{microServiceId, stage, providers, consumers, overrides}].");
    c.run = runList;
    return c;
}

Command overrideCommand()
{
    Command c;
    c.name = QStringLiteral("override");
    c.arguments = {{QStringLiteral("service-id"), QStringLiteral("The instance's micro-service."), QStringLiteral("<service-id>")},
                   {QStringLiteral("address"), QStringLiteral("The instance's host:port."), QStringLiteral("<host:port>")}};
    c.options = {{QStringLiteral("weight"), QStringLiteral("Replace its registered weight (1 to 1000)."), QStringLiteral("N")},
                 {QStringLiteral("disable"), QStringLiteral("Send it no new calls.")},
                 {QStringLiteral("enable"), QStringLiteral("Send it calls again (undoes --disable).")},
                 {QStringLiteral("clear"), QStringLiteral("Remove the override: the instance's registered values apply.")}};
    c.summary = QStringLiteral("Changes an instance live: its weight, or whether it takes calls.");
    c.description = QStringLiteral(
        "Writes /tomato/<service-id>/<stage>/overrides/<host:port> (docs/REGISTRY.md#overrides) in the\n"
        "stage --stage names, else in every stage the instance is registered in, keeping what the\n"
        "options do not change, then waits (up to --timeout) until ZooKeeper shows the change, and\n"
        "prints the instance's override. Clients apply it within a second.");
    c.run = runOverride;
    return c;
}

} // namespace Cli
