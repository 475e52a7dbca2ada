// SPDX-License-Identifier: Apache-2.0
// tomato describe, call and status: calls by name with JSON, to one node or through the
// registry, and what a node's built-in Tomato::Introspection service says (docs/STATUS.md).
#include "table.h"
#include "target.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

namespace Cli {

namespace {

const QString introspection = QStringLiteral("Tomato::Introspection");

QString text(const QJsonObject &object, const char *key)
{
    const QJsonValue value = object.value(QLatin1String(key));
    return value.isString() ? value.toString() : value.isUndefined() ? QString() : jsonText(value, false);
}

Failure callFailure(const Tomato::RpcError &e, const QString &service, const QString &method, const Target &target)
{
    return Failure(exitCodeOf(e), QStringLiteral("%1.%2 on %3 failed: %4").arg(service, method, target.name(), describe(e)));
}

// Calls a method of the target's Tomato::Introspection: its answer, or a Failure naming the call.
QJsonValue introspect(Target &target, const QString &method, const QJsonArray &arguments = {})
{
    try {
        return target.call(introspection, method, arguments);
    } catch (const Tomato::RpcError &e) {
        throw callFailure(e, introspection, method, target);
    }
}

// ---- describe -------------------------------------------------------------------------------

// "QString echo(QString message)"
QString signatureOf(const QJsonObject &method)
{
    QStringList arguments;
    for (const QJsonValue &a : method.value(QLatin1String("arguments")).toArray())
        arguments << text(a.toObject(), "type") + QLatin1Char(' ') + text(a.toObject(), "name");
    return QStringLiteral("%1 %2(%3)").arg(text(method, "returnType"), text(method, "name"),
                                           arguments.join(QLatin1String(", ")));
}

void printServices(const QJsonArray &services)
{
    for (qsizetype i = 0; i < services.size(); ++i) {
        const QJsonObject service = services.at(i).toObject();
        if (i > 0)
            printLine(QString());
        QString title = text(service, "service");
        if (service.value(QLatin1String("builtin")).toBool())
            title += QStringLiteral("  (built in)");
        else
            title += QStringLiteral("  micro-service %1").arg(text(service, "microServiceId"));
        printLine(title + QStringLiteral("  interface %1").arg(text(service, "interfaceHash")));
        Table methods;
        for (const QJsonValue &m : service.value(QLatin1String("methods")).toArray()) {
            const bool idempotent = m.toObject().value(QLatin1String("idempotent")).toBool();
            methods.addRow({signatureOf(m.toObject()), idempotent ? QStringLiteral("idempotent") : QString()});
        }
        methods.print(2);
    }
}

// The services a node publishes, or only the one named.
QJsonArray servicesOf(Target &target, const QString &only)
{
    const QJsonArray all = introspect(target, QStringLiteral("services")).toArray();
    if (only.isEmpty())
        return all;
    QStringList names;
    for (const QJsonValue &s : all) {
        if (text(s.toObject(), "service") == only)
            return QJsonArray{s};
        names << text(s.toObject(), "service");
    }
    throw Failure(RemoteFailure, QStringLiteral("%1 publishes no %2 (it publishes %3)")
                                     .arg(target.name(), only, names.join(QLatin1String(", "))));
}

int runDescribe(const Invocation &invocation)
{
    Target target(invocation.global, invocation.arguments.at(0));
    const QJsonArray services = servicesOf(target, invocation.arguments.value(1));
    if (invocation.global.json)
        printLine(jsonText(services, false));
    else
        printServices(services);
    return Success;
}

// ---- call -----------------------------------------------------------------------------------

std::pair<QString, QString> serviceAndMethod(const QString &text)
{
    const qsizetype dot = text.lastIndexOf(QLatin1Char('.'));
    if (dot <= 0 || dot == text.size() - 1)
        throw Failure(UsageError, QStringLiteral("call: '%1' is not Service.method (e.g. Sample::EchoService.echo)").arg(text));
    return {text.left(dot), text.mid(dot + 1)};
}

// A JSON array is the arguments; any other JSON value is the only one; none is no arguments.
QJsonArray callArguments(const QString &json)
{
    if (json.trimmed().isEmpty())
        return {};
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson('[' + json.toUtf8() + ']', &error);
    if (error.error != QJsonParseError::NoError || document.array().size() != 1)
        throw Failure(UsageError, QStringLiteral("call: malformed JSON arguments '%1': %2 (write a string as '\"text\"', "
                                                 "several arguments as '[1, \"two\"]')")
                                      .arg(json, error.error != QJsonParseError::NoError ? error.errorString()
                                                                                         : QStringLiteral("more than one value")));
    const QJsonValue value = document.array().at(0);
    return value.isArray() ? value.toArray() : QJsonArray{value};
}

Tomato::CallOptions callOptions(const QCommandLineParser &parser)
{
    Tomato::CallOptions options;
    for (const QString &entry : parser.values(QStringLiteral("context"))) {
        const qsizetype equals = entry.indexOf(QLatin1Char('='));
        if (equals <= 0)
            throw Failure(UsageError, QStringLiteral("call: --context '%1' is not key=value").arg(entry));
        options.addContext(entry.left(equals), entry.mid(equals + 1));
    }
    if (parser.isSet(QStringLiteral("trace-id")))
        options.setTraceId(parser.value(QStringLiteral("trace-id")).toUtf8());
    return options;
}

QJsonObject errorJson(const Tomato::RpcError &e)
{
    return QJsonObject{{QStringLiteral("error"),
                        QJsonObject{{QStringLiteral("code"), int(e.code())},
                                    {QStringLiteral("name"), Tomato::RpcError::codeName(e.code())},
                                    {QStringLiteral("type"), e.remoteType()},
                                    {QStringLiteral("message"), e.message()}}}};
}

int runCall(const Invocation &invocation)
{
    const auto [service, method] = serviceAndMethod(invocation.arguments.at(1));
    const QJsonArray arguments = callArguments(invocation.arguments.value(2));
    const Tomato::CallOptions options = callOptions(*invocation.parser);
    Target target(invocation.global, invocation.arguments.at(0));
    try {
        printLine(jsonText(target.call(service, method, arguments, options), !invocation.global.json));
        return Success;
    } catch (const Tomato::RpcError &e) {
        if (invocation.global.json)
            printLine(jsonText(errorJson(e), false));
        throw callFailure(e, service, method, target);
    }
}

// ---- status ---------------------------------------------------------------------------------

QString registryText(const QJsonObject &registry)
{
    if (!registry.value(QLatin1String("used")).toBool())
        return QStringLiteral("none");
    return QStringLiteral("%1, %2").arg(
        registry.value(QLatin1String("connected")).toBool() ? QStringLiteral("connected") : QStringLiteral("disconnected"),
        registry.value(QLatin1String("registered")).toBool() ? QStringLiteral("registered") : QStringLiteral("not registered"));
}

void printNode(const QJsonObject &node, const QString &name)
{
    QStringList addresses;
    for (const QJsonValue &a : node.value(QLatin1String("addresses")).toArray())
        addresses << a.toString();
    const bool overloaded = node.value(QLatin1String("overloaded")).toBool();
    Table t;
    t.addRow({QStringLiteral("node"), name});
    t.addRow({QStringLiteral("application"), QStringLiteral("%1 (pid %2) on %3")
                                                 .arg(text(node, "application"), text(node, "pid"), text(node, "hostName"))});
    t.addRow({QStringLiteral("version"), QStringLiteral("Tomato RPC %1, Qt %2").arg(text(node, "version"), text(node, "qtVersion"))});
    t.addRow({QStringLiteral("micro-service"), QStringLiteral("%1 in %2/%3, weight %4")
                                                   .arg(text(node, "microServiceId"), text(node, "stage"), text(node, "group"),
                                                        text(node, "weight"))});
    t.addRow({QStringLiteral("listening"), addresses.join(QLatin1String(", "))});
    t.addRow({QStringLiteral("started"), QStringLiteral("%1 (up %2 s)")
                                             .arg(timeText(node.value(QLatin1String("startedAt")).toInteger()),
                                                  text(node, "uptimeSeconds"))});
    t.addRow({QStringLiteral("readiness"), text(node, "readiness") + (overloaded ? QStringLiteral(", overloaded") : QString())});
    t.addRow({QStringLiteral("registry"), registryText(node.value(QLatin1String("registry")).toObject())});
    t.print();
}

void printServiceSummary(const QJsonArray &services)
{
    printLine(QStringLiteral("services:"));
    Table t;
    for (const QJsonValue &s : services) {
        const QJsonObject service = s.toObject();
        const qsizetype methods = service.value(QLatin1String("methods")).toArray().size();
        t.addRow({text(service, "service"),
                  service.value(QLatin1String("builtin")).toBool() ? QStringLiteral("built in") : text(service, "microServiceId"),
                  QStringLiteral("%1 method%2").arg(methods).arg(methods == 1 ? "" : "s")});
    }
    t.print(2);
}

// Stage by stage, group by group, as Introspection.invokers() gives them.
void printInvokers(const QJsonArray &stages)
{
    printLine(QStringLiteral("invokers (this node's calls to others):"));
    Table t({QStringLiteral("STAGE"), QStringLiteral("GROUP"), QStringLiteral("SERVICE"), QStringLiteral("ADDRESS"),
             QStringLiteral("STATE"), QStringLiteral("IN-FLIGHT"), QStringLiteral("CALLS"), QStringLiteral("ERRORS"),
             QStringLiteral("P50-MS"), QStringLiteral("P99-MS")});
    for (const QJsonValue &s : stages) {
        const QJsonObject groups = s.toObject().value(QLatin1String("groups")).toObject();
        for (auto g = groups.constBegin(); g != groups.constEnd(); ++g) {
            for (const QJsonValue &i : g.value().toArray()) {
                const QJsonObject invoker = i.toObject();
                t.addRow({text(s.toObject(), "stage"), g.key(), text(invoker, "microServiceId"), text(invoker, "address"),
                          text(invoker, "state"), text(invoker, "inFlight"), text(invoker, "calls"), text(invoker, "errors"),
                          text(invoker, "p50Ms"), text(invoker, "p99Ms")});
            }
        }
    }
    if (t.isEmpty())
        printLine(QStringLiteral("  (none)"));
    else
        t.print(2);
}

// The counters, then the calls of each method.
void printStatistics(const QJsonObject &statistics)
{
    printLine(QStringLiteral("server counters:"));
    Table counters;
    for (auto it = statistics.constBegin(); it != statistics.constEnd(); ++it) {
        if (!it.value().isObject() && !it.value().isArray())
            counters.addRow({it.key(), jsonText(it.value(), false)});
    }
    counters.print(2);
    Table methods({QStringLiteral("METHOD"), QStringLiteral("CALLS"), QStringLiteral("ERRORS"), QStringLiteral("MEAN-MS")});
    for (const QJsonValue &m : statistics.value(QLatin1String("methods")).toArray()) {
        const QJsonObject method = m.toObject();
        methods.addRow({text(method, "service") + QLatin1Char('.') + text(method, "method"), text(method, "calls"),
                        text(method, "errors"), QString::number(method.value(QLatin1String("meanMs")).toDouble(), 'f', 3)});
    }
    if (!methods.isEmpty())
        methods.print(2);
}

int runStatus(const Invocation &invocation)
{
    if (!Target::isAddress(invocation.arguments.at(0)))
        throw Failure(UsageError, QStringLiteral("status: '%1' is not an address (tcp://host:port, tls://host:port, "
                                                 "unix:///path or host:port; `tomato list` shows them)")
                                      .arg(invocation.arguments.at(0)));
    Target target(invocation.global, invocation.arguments.at(0));
    const QJsonObject node = introspect(target, QStringLiteral("node")).toObject();
    const QJsonArray services = introspect(target, QStringLiteral("services")).toArray();
    const QJsonArray invokers = introspect(target, QStringLiteral("invokers"), {QString()}).toArray();
    const QJsonObject statistics = introspect(target, QStringLiteral("statistics")).toObject();
    if (invocation.global.json) {
        printLine(jsonText(QJsonObject{{QStringLiteral("node"), node},
                                       {QStringLiteral("services"), services},
                                       {QStringLiteral("invokers"), invokers},
                                       {QStringLiteral("statistics"), statistics}},
                           false));
        return Success;
    }
    printNode(node, target.name());
    printServiceSummary(services);
    printInvokers(invokers);
    printStatistics(statistics);
    return Success;
}

const Argument targetArgument{QStringLiteral("target"),
                              QStringLiteral("An address (tcp://host:port, tls://host:port, unix:///path, host:port), "
                                             "or a micro-service id to reach through the registry."),
                              QStringLiteral("<address|service-id>")};

} // namespace

Command describeCommand()
{
    Command c;
    c.name = QStringLiteral("describe");
    c.arguments = {targetArgument,
                   {QStringLiteral("service"), QStringLiteral("Only this interface (Sample::EchoService)."), QStringLiteral("[Service]")}};
    c.summary = QStringLiteral("Lists the services a node publishes, with their methods' signatures.");
    c.description = QStringLiteral(
        "Asks the node's built-in Tomato::Introspection service (services()): at an address, or at an\n"
        "instance of a micro-service the registry chooses (--stage and --group). Prints each\n"
        "interface and its methods; --json prints services() as it is (docs/STATUS.md).");
    c.run = runDescribe;
    return c;
}

Command callCommand()
{
    Command c;
    c.name = QStringLiteral("call");
    c.arguments = {targetArgument,
                   {QStringLiteral("method"), QStringLiteral("Interface and method: Sample::EchoService.echo."),
                    QStringLiteral("<Service.method>")},
                   {QStringLiteral("arguments"),
                    QStringLiteral("JSON: an array of the arguments; any other value is the only argument; none is []."),
                    QStringLiteral("[json]")}};
    c.options = {{QStringLiteral("context"), QStringLiteral("Send the call context entry key=value (repeatable)."),
                  QStringLiteral("key=value")},
                 {QStringLiteral("trace-id"), QStringLiteral("Send this trace id."), QStringLiteral("id")}};
    c.summary = QStringLiteral("Calls a method by name with JSON arguments and prints the JSON result.");
    c.description = QStringLiteral(
        "Calls through the registry with load balancing when given a micro-service id (--stage and\n"
        "--group choose the instances), or the node at an address. Prints the result as indented JSON\n"
        "(compact with --json; null for a void method). A failed call prints its error code, the\n"
        "remote exception's type and message on stderr (with --json also {\"error\": {code, name,\n"
        "type, message}} on stdout) and exits 1 (the node answered) or 3 (no answer).\n"
        "Arguments starting with '-' follow a '--'.");
    c.run = runCall;
    return c;
}

Command statusCommand()
{
    Command c;
    c.name = QStringLiteral("status");
    c.arguments = {{QStringLiteral("address"), QStringLiteral("The node: tcp://host:port, tls://host:port, unix:///path or host:port."),
                    QStringLiteral("<address>")}};
    c.summary = QStringLiteral("Summarises one node: identity, services, invokers and server counters.");
    c.description = QStringLiteral(
        "Asks the node's Tomato::Introspection service for node(), services(), invokers(\"\") and\n"
        "statistics() and prints them; --json prints {node, services, invokers, statistics}.");
    c.run = runStatus;
    return c;
}

} // namespace Cli
