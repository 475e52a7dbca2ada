// SPDX-License-Identifier: Apache-2.0
// tomato: Tomato RPC's command line (docs/CLI.md). Lists what the ZooKeeper registry holds,
// describes and calls services by name with JSON, watches instances come and go, shows a
// node's status and changes instances live.
//
//   tomato [options] <command> [arguments] [options]
//
// This file parses the command line and dispatches; the commands are in registrycommands.cpp
// (list, override), watchcommand.cpp (watch) and nodecommands.cpp (describe, call, status).
// Every mistake and failure is one line on stderr and an exit code of the table below.
#include "cli.h"
#include "table.h"

#include <tomato/core/version.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QLoggingCategory>

#include <cstdio>

namespace {

using namespace Cli;

QList<Command> commands()
{
    return {listCommand(), describeCommand(), callCommand(), watchCommand(), statusCommand(), overrideCommand()};
}

const char exitCodes[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  the node answered with an error: the method threw (ApplicationException), or it refused the\n"
    "     call (UnknownService, UnknownMethod, BadArguments, PermissionDenied, Overloaded, ...)\n"
    "  2  usage error: unknown command or option, missing or extra argument, malformed JSON or address\n"
    "  3  no answer: cannot connect, no provider, registry unreachable, timeout, connection lost\n"
    "  4  anything else: an answer that cannot be read, an unexpected error\n";

const char environment[] =
    "Environment:\n"
    "  TOMATO_NAME_SERVICE_URI  the registry when --name-service-uri is not given\n"
    "  TOMATO_RPC_<KEY>         the client's settings (docs/CONFIGURATION.md), e.g. TOMATO_RPC_TLS_CA\n";

QList<QCommandLineOption> globalOptions()
{
    return {
        {QStringLiteral("name-service-uri"),
         QStringLiteral("The registry: zookeeper://[user:password@]host:port[,host:port...][/chroot] or "
                        "host:port (default: $TOMATO_NAME_SERVICE_URI)."),
         QStringLiteral("uri")},
        {QStringLiteral("json"), QStringLiteral("Machine output: compact JSON on stdout.")},
        {QStringLiteral("timeout"), QStringLiteral("How long to wait for the registry and the calls, in milliseconds (default: 5000)."),
         QStringLiteral("ms"), QStringLiteral("5000")},
        {QStringLiteral("stage"),
         QStringLiteral("The stage of the instances a call through the registry goes to (default: the client's, "
                        "\"default\"); list, watch and override only this stage."),
         QStringLiteral("stage")},
        {QStringLiteral("group"), QStringLiteral("The group, likewise."), QStringLiteral("group")},
        {QStringLiteral("verbose"), QStringLiteral("Also print the library's log messages on stderr.")},
    };
}

const Command *find(const QList<Command> &all, const QString &name)
{
    for (const Command &c : all) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

// The command's name: the first argument that is neither an option nor an option's value.
QString commandName(const QStringList &arguments, const QList<Command> &all)
{
    QStringList valued;
    auto collect = [&](const QList<QCommandLineOption> &options) {
        for (const QCommandLineOption &o : options) {
            if (!o.valueName().isEmpty())
                valued += o.names();
        }
    };
    collect(globalOptions());
    for (const Command &c : all)
        collect(c.options);
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString &a = arguments.at(i);
        if (a == QLatin1String("--"))
            return arguments.value(i + 1);
        if (!a.startsWith(QLatin1Char('-')))
            return a;
        if (!a.contains(QLatin1Char('=')) && valued.contains(a.mid(a.startsWith(QLatin1String("--")) ? 2 : 1)))
            ++i; // its value
    }
    return {};
}

void setUpMain(QCommandLineParser &parser, const QList<Command> &all)
{
    Table list;
    for (const Command &c : all)
        list.addRow({c.name, c.summary});
    list.addRow({QStringLiteral("help"), QStringLiteral("Shows a command's help: tomato help <command>, or tomato <command> --help.")});
    parser.setApplicationDescription(
        QStringLiteral("Tomato RPC's command line: the ZooKeeper registry, calls by name with JSON, a node's status.\n\n"
                       "Commands:\n")
        + list.lines(2).join(QLatin1Char('\n')));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions(globalOptions());
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("The command, then its arguments."),
                                 QStringLiteral("<command> [arguments]"));
}

void setUpCommand(QCommandLineParser &parser, const Command &command)
{
    parser.setApplicationDescription(command.summary + QStringLiteral("\n\n") + command.description);
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions(globalOptions());
    parser.addOptions(command.options);
    parser.addPositionalArgument(command.name, QStringLiteral("The command."), command.name);
    for (const Argument &a : command.arguments)
        parser.addPositionalArgument(a.name, a.description, a.syntax);
}

void printHelp(const QCommandLineParser &parser, bool withCodes)
{
    QString help = parser.helpText();
    // The parser names the program as it was started (a path, maybe): say "tomato".
    const QString usage = QStringLiteral("Usage: ") + QCoreApplication::arguments().constFirst();
    if (help.startsWith(usage))
        help.replace(0, usage.size(), QStringLiteral("Usage: tomato"));
    if (withCodes)
        help += QLatin1Char('\n') + QLatin1String(exitCodes) + QLatin1Char('\n') + QLatin1String(environment);
    printLine(help.trimmed());
}

void printVersion()
{
    printLine(QStringLiteral("tomato %1 (Qt %2)").arg(QCoreApplication::applicationVersion(), QString::fromLatin1(qVersion())));
}

// `tomato`, `tomato --help`, `tomato --version`, `tomato help [command]`.
int runHelp(const QStringList &arguments, const QList<Command> &all, bool helpCommand)
{
    QCommandLineParser parser;
    setUpMain(parser, all);
    if (!parser.parse(arguments))
        throw Failure(UsageError, parser.errorText() + QStringLiteral(" (see tomato --help)"));
    const QStringList topics = parser.positionalArguments().mid(1);
    if (parser.isSet(QStringLiteral("version")) && !helpCommand) {
        printVersion();
        return Success;
    }
    if (!helpCommand && !parser.isSet(QStringLiteral("help")))
        throw Failure(UsageError, QStringLiteral("no command (see tomato --help)"));
    if (topics.size() > 1)
        throw Failure(UsageError, QStringLiteral("help: one command at a time"));
    if (topics.isEmpty()) {
        printHelp(parser, true);
        return Success;
    }
    const Command *command = find(all, topics.first());
    if (!command)
        throw Failure(UsageError, QStringLiteral("help: no command '%1' (see tomato --help)").arg(topics.first()));
    QCommandLineParser commandParser;
    setUpCommand(commandParser, *command);
    printHelp(commandParser, false);
    return Success;
}

Tomato::RpcConfig clientConfig(const GlobalOptions &options)
{
    try {
        Tomato::RpcConfig config = Tomato::RpcConfig::load(QStringList());
        if (!options.stage.isEmpty())
            config.setStage(options.stage);
        if (!options.group.isEmpty())
            config.setGroup(options.group);
        config.setTimeoutMs(options.timeoutMs);
        return config;
    } catch (const Tomato::ConfigError &e) {
        throw Failure(UsageError, QString::fromUtf8(e.what()));
    }
}

GlobalOptions readGlobalOptions(const QCommandLineParser &parser)
{
    GlobalOptions o;
    bool ok = false;
    o.timeoutMs = parser.value(QStringLiteral("timeout")).toInt(&ok);
    if (!ok || o.timeoutMs < 1)
        throw Failure(UsageError, QStringLiteral("--timeout: '%1' is not a positive number of milliseconds")
                                      .arg(parser.value(QStringLiteral("timeout"))));
    o.json = parser.isSet(QStringLiteral("json"));
    o.stage = parser.value(QStringLiteral("stage"));
    o.group = parser.value(QStringLiteral("group"));
    if ((parser.isSet(QStringLiteral("stage")) && o.stage.isEmpty()) || (parser.isSet(QStringLiteral("group")) && o.group.isEmpty()))
        throw Failure(UsageError, QStringLiteral("--stage and --group take a name"));
    o.config = clientConfig(o);
    o.nameServiceUri = parser.isSet(QStringLiteral("name-service-uri")) ? parser.value(QStringLiteral("name-service-uri"))
                                                                        : qEnvironmentVariable("TOMATO_NAME_SERVICE_URI");
    if (o.nameServiceUri.isEmpty())
        o.nameServiceUri = o.config.nameServiceUri();
    if (!parser.isSet(QStringLiteral("verbose")))
        QLoggingCategory::setFilterRules(QStringLiteral("tomato.*.debug=false\ntomato.*.info=false\ntomato.*.warning=false"));
    o.deadline = QDeadlineTimer(o.timeoutMs);
    return o;
}

void checkArgumentCount(const Command &command, const QStringList &arguments)
{
    const auto required = std::count_if(command.arguments.cbegin(), command.arguments.cend(),
                                        [](const Argument &a) { return a.isRequired(); });
    if (arguments.size() >= required && arguments.size() <= command.arguments.size())
        return;
    QStringList syntax;
    for (const Argument &a : command.arguments)
        syntax << a.syntax;
    throw Failure(UsageError, QStringLiteral("%1: %2 (usage: tomato %1 %3; see tomato help %1)")
                                  .arg(command.name,
                                       arguments.size() < required ? QStringLiteral("missing arguments")
                                                                   : QStringLiteral("unexpected argument '%1'")
                                                                         .arg(arguments.value(command.arguments.size())),
                                       syntax.join(QLatin1Char(' '))));
}

int run(const QStringList &arguments)
{
    const QList<Command> all = commands();
    const QString name = commandName(arguments, all);
    if (name.isEmpty() || name == QLatin1String("help"))
        return runHelp(arguments, all, !name.isEmpty());
    const Command *command = find(all, name);
    if (!command)
        throw Failure(UsageError, QStringLiteral("unknown command '%1' (see tomato --help)").arg(name));
    QCommandLineParser parser;
    setUpCommand(parser, *command);
    if (!parser.parse(arguments))
        throw Failure(UsageError, QStringLiteral("%1: %2 (see tomato help %1)").arg(name, parser.errorText()));
    if (parser.isSet(QStringLiteral("help"))) {
        printHelp(parser, false);
        return Success;
    }
    if (parser.isSet(QStringLiteral("version"))) {
        printVersion();
        return Success;
    }
    Invocation invocation{readGlobalOptions(parser), &parser, parser.positionalArguments().mid(1)};
    checkArgumentCount(*command, invocation.arguments);
    return command->run(invocation);
}

void printError(const QString &message)
{
    std::fprintf(stderr, "tomato: %s\n", qPrintable(message));
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("tomato"));
    QCoreApplication::setApplicationVersion(QStringLiteral(TOMATO_VERSION_STRING));
    try {
        return run(QCoreApplication::arguments());
    } catch (const Failure &f) {
        printError(QString::fromUtf8(f.what()));
        return f.code();
    } catch (const Tomato::RpcError &e) {
        printError(describe(e));
        return exitCodeOf(e);
    } catch (const std::exception &e) {
        printError(QString::fromUtf8(e.what()));
        return InternalError;
    } catch (...) {
        printError(QStringLiteral("an unexpected error"));
        return InternalError;
    }
}
