// tomato-stubgen: generates client stubs for Tomato RPC interfaces.
//
// Input: the JSON moc writes with --output-json for an interface header, and the header
// itself. Output: <basename>_stub.h and <basename>_stub.cpp with, for every class in the
// header that carries Q_CLASSINFO("microServiceId", ...), a class <Interface>Stub deriving from
// the interface: each Q_INVOKABLE method is overridden to call remotely and block, and gets a
// QFuture form <name>Async(..., Tomato::CallOptions). Parameter and return types are taken
// from the interface's own member function types (decltype), so the overrides match the
// declarations exactly however they were spelled.
#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRegularExpression>
#include <QtCore/QSaveFile>
#include <QtCore/QTextStream>

#include <cstdio>

namespace {

struct Method
{
    QString name;
    int argc = 0;
    QList<int> shorterForms; // argument counts of moc's default-argument clones
    bool isConst = false;
};

struct Interface
{
    QString qualifiedName; // e.g. Sample::EchoService
    QStringList namespaces;
    QString name;
    QList<Method> methods;
};

[[noreturn]] void fail(const QString &message)
{
    std::fprintf(stderr, "tomato-stubgen: %s\n", qPrintable(message));
    std::exit(1);
}

// Whether the header declares `name(...) const`: moc's JSON does not say.
bool declaredConst(const QString &header, const QString &name)
{
    const QRegularExpression re(QStringLiteral("\\b%1\\s*\\(").arg(QRegularExpression::escape(name)));
    auto it = re.globalMatch(header);
    while (it.hasNext()) {
        const auto m = it.next();
        int depth = 1;
        qsizetype i = m.capturedEnd();
        for (; i < header.size() && depth > 0; ++i) {
            if (header[i] == QLatin1Char('('))
                ++depth;
            else if (header[i] == QLatin1Char(')'))
                --depth;
        }
        while (i < header.size() && header[i].isSpace())
            ++i;
        if (header.mid(i, 5) == QLatin1String("const"))
            return true;
    }
    return false;
}

QList<Interface> readInterfaces(const QJsonObject &root, const QString &headerText)
{
    QList<Interface> result;
    for (const QJsonValue &cv : root.value(QLatin1String("classes")).toArray()) {
        const QJsonObject cls = cv.toObject();
        bool isInterface = false;
        for (const QJsonValue &ci : cls.value(QLatin1String("classInfos")).toArray()) {
            if (ci.toObject().value(QLatin1String("name")).toString() == QLatin1String("microServiceId"))
                isInterface = true;
        }
        if (!isInterface || !cls.value(QLatin1String("object")).toBool())
            continue;
        Interface iface;
        iface.qualifiedName = cls.value(QLatin1String("qualifiedClassName")).toString();
        iface.namespaces = iface.qualifiedName.split(QLatin1String("::"));
        iface.name = iface.namespaces.takeLast();
        QHash<QString, int> byName;
        for (const char *section : {"methods", "slots"}) {
            for (const QJsonValue &mv : cls.value(QLatin1String(section)).toArray()) {
                const QJsonObject m = mv.toObject();
                if (m.value(QLatin1String("access")).toString() != QLatin1String("public"))
                    continue;
                Method method;
                method.name = m.value(QLatin1String("name")).toString();
                method.argc = int(m.value(QLatin1String("arguments")).toArray().size());
                // moc lists a clone without each defaulted argument: keep the full form.
                if (byName.contains(method.name)) {
                    Method &known = iface.methods[byName.value(method.name)];
                    known.shorterForms.append(qMin(known.argc, method.argc));
                    known.argc = qMax(known.argc, method.argc);
                    continue;
                }
                method.isConst = declaredConst(headerText, method.name);
                byName.insert(method.name, int(iface.methods.size()));
                iface.methods.append(method);
            }
        }
        result.append(iface);
    }
    return result;
}

QString memberPointer(const Interface &iface, const Method &m)
{
    return QStringLiteral("decltype(&::%1::%2)").arg(iface.qualifiedName, m.name);
}

QString parameterList(const Interface &iface, const Method &m, bool withOptions, bool withDefault,
                      int argc = -1)
{
    QStringList params;
    for (int i = 0; i < (argc < 0 ? m.argc : argc); ++i)
        params << QStringLiteral("Tomato::detail::ArgOf<%1, %2> a%2").arg(memberPointer(iface, m)).arg(i);
    if (withOptions)
        params << (withDefault ? QStringLiteral("const Tomato::CallOptions &options = {}")
                               : QStringLiteral("const Tomato::CallOptions &options"));
    return params.join(QLatin1String(", "));
}

QString argumentList(const Method &m, int argc = -1)
{
    QStringList args;
    for (int i = 0; i < (argc < 0 ? m.argc : argc); ++i)
        args << QStringLiteral("a%1").arg(i);
    return args.join(QLatin1String(", "));
}

void writeHeader(QTextStream &out, const QList<Interface> &interfaces, const QString &headerPath)
{
    out << "// Generated by tomato-stubgen from " << QFileInfo(headerPath).fileName()
        << ". Do not edit.\n#pragma once\n\n#include \"" << headerPath << "\"\n"
        << "#include <tomato/client/stub.h>\n\n#include <chrono>\n#include <memory>\n\n";
    for (const Interface &iface : interfaces) {
        for (const QString &ns : iface.namespaces)
            out << "namespace " << ns << " {\n";
        out << "\n// Client stub of " << iface.qualifiedName
            << ": every method is a remote call. Thread-safe: call from any thread.\n"
            << "class " << iface.name << "Stub final : public " << iface.name << "\n{\npublic:\n"
            << "    explicit " << iface.name << "Stub(std::shared_ptr<Tomato::Channel> channel,\n"
            << "        const Tomato::StubOptions &options = {}, QObject *parent = nullptr);\n\n"
            << "    Tomato::StubCore &stubCore() { return m_core; }\n"
            << "    void setTimeout(std::chrono::milliseconds timeout) { m_core.setTimeout(timeout); }\n"
            << "    std::chrono::milliseconds timeout() const { return m_core.timeout(); }\n\n";
        for (const Method &m : iface.methods) {
            const QString mp = memberPointer(iface, m);
            out << "    Tomato::detail::ReturnOf<" << mp << "> " << m.name << "("
                << parameterList(iface, m, false, false) << ")" << (m.isConst ? " const" : "")
                << " override;\n";
            out << "    Tomato::detail::FutureOf<" << mp << "> " << m.name << "Async("
                << parameterList(iface, m, true, true) << ") const;\n";
            // Calls that leave defaulted arguments out: the interface's declaration supplies
            // the defaults, virtual dispatch brings the call back to the override above.
            for (int argc : m.shorterForms) {
                out << "    Tomato::detail::ReturnOf<" << mp << "> " << m.name << "("
                    << parameterList(iface, m, false, false, argc) << ")" << (m.isConst ? " const" : "")
                    << "\n    {\n        return static_cast<" << (m.isConst ? "const " : "") << iface.name
                    << " &>(*this)." << m.name << "(" << argumentList(m, argc) << ");\n    }\n";
            }
        }
        out << "\nprivate:\n    Tomato::StubCore m_core;\n};\n\n";
        for (int i = int(iface.namespaces.size()) - 1; i >= 0; --i)
            out << "} // namespace " << iface.namespaces.at(i) << "\n";
        out << "\ntemplate<>\nstruct Tomato::StubFor<::" << iface.qualifiedName << ">\n{\n"
            << "    using Type = ::" << iface.qualifiedName << "Stub;\n};\n\n";
    }
}

void writeSource(QTextStream &out, const QList<Interface> &interfaces, const QString &stubHeader)
{
    out << "// Generated by tomato-stubgen. Do not edit.\n#include \"" << stubHeader << "\"\n\n";
    for (const Interface &iface : interfaces) {
        for (const QString &ns : iface.namespaces)
            out << "namespace " << ns << " {\n";
        const QString stub = iface.name + QLatin1String("Stub");
        QStringList names;
        for (const Method &m : iface.methods)
            names << QLatin1Char('"') + m.name + QLatin1Char('"');
        out << "\n" << stub << "::" << stub << "(std::shared_ptr<Tomato::Channel> channel,\n"
            << "        const Tomato::StubOptions &options, QObject *parent)\n"
            << "    : m_core(std::move(channel), ::" << iface.qualifiedName << "::staticMetaObject, {"
            << names.join(QLatin1String(", ")) << "}, options)\n{\n    setParent(parent);\n}\n\n";
        for (int slot = 0; slot < iface.methods.size(); ++slot) {
            const Method &m = iface.methods.at(slot);
            const QString mp = memberPointer(iface, m);
            out << "Tomato::detail::ReturnOf<" << mp << "> " << stub << "::" << m.name << "("
                << parameterList(iface, m, false, false) << ")" << (m.isConst ? " const" : "")
                << "\n{\n    return Tomato::waitFor(" << m.name << "Async("
                << argumentList(m) << "));\n}\n\n";
            const QString args = argumentList(m);
            out << "Tomato::detail::FutureOf<" << mp << "> " << stub << "::" << m.name << "Async("
                << parameterList(iface, m, true, false) << ") const\n{\n"
                << "    return m_core.call<std::decay_t<Tomato::detail::ReturnOf<" << mp << ">>>("
                << slot << ", options" << (args.isEmpty() ? QString() : QLatin1String(", ") + args)
                << ");\n}\n\n";
        }
        for (int i = int(iface.namespaces.size()) - 1; i >= 0; --i)
            out << "} // namespace " << iface.namespaces.at(i) << "\n";
        out << "\n";
    }
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Generates Tomato RPC client stubs from moc JSON."));
    parser.addHelpOption();
    parser.addOption({QStringLiteral("json"), QStringLiteral("moc --output-json file"), QStringLiteral("file")});
    parser.addOption({QStringLiteral("header"), QStringLiteral("the interface header"), QStringLiteral("file")});
    parser.addOption({QStringLiteral("output-dir"), QStringLiteral("where to write"), QStringLiteral("dir")});
    parser.addOption({QStringLiteral("basename"), QStringLiteral("output base name"), QStringLiteral("name")});
    parser.process(app);
    const QString jsonPath = parser.value(QStringLiteral("json"));
    const QString headerPath = parser.value(QStringLiteral("header"));
    const QString outDir = parser.value(QStringLiteral("output-dir"));
    const QString base = parser.value(QStringLiteral("basename"));
    if (jsonPath.isEmpty() || headerPath.isEmpty() || outDir.isEmpty() || base.isEmpty())
        fail(QStringLiteral("--json, --header, --output-dir and --basename are required"));

    QFile jsonFile(jsonPath);
    if (!jsonFile.open(QIODevice::ReadOnly))
        fail(QStringLiteral("cannot read %1: %2").arg(jsonPath, jsonFile.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(jsonFile.readAll(), &error);
    if (doc.isNull())
        fail(QStringLiteral("%1: %2").arg(jsonPath, error.errorString()));
    QFile header(headerPath);
    if (!header.open(QIODevice::ReadOnly))
        fail(QStringLiteral("cannot read %1: %2").arg(headerPath, header.errorString()));
    const QString headerText = QString::fromUtf8(header.readAll());

    const QList<Interface> interfaces = readInterfaces(doc.object(), headerText);
    if (interfaces.isEmpty())
        fail(QStringLiteral("%1 declares no interface: a QObject class with Q_OBJECT and "
                            "Q_CLASSINFO(\"microServiceId\", ...) is needed").arg(headerPath));

    const QString stubHeader = base + QLatin1String("_stub.h");
    for (const auto &[name, writer] :
         {std::pair<QString, int>{stubHeader, 0}, {base + QLatin1String("_stub.cpp"), 1}}) {
        QSaveFile file(outDir + QLatin1Char('/') + name);
        if (!file.open(QIODevice::WriteOnly))
            fail(QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
        QTextStream out(&file);
        if (writer == 0)
            writeHeader(out, interfaces, QFileInfo(headerPath).absoluteFilePath());
        else
            writeSource(out, interfaces, stubHeader);
        out.flush();
        if (!file.commit())
            fail(QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
    }
    return 0;
}
