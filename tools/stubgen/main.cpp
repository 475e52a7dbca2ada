// tomato-stubgen: generates client stubs for Tomato RPC interfaces, and refuses, at build
// time and with one line each, the mistakes that would otherwise surface late.
//
// Input: the JSON moc writes with --output-json for an interface header, and the header
// itself. Output: <basename>_stub.h and <basename>_stub.cpp with, for every class in the
// header that carries Q_CLASSINFO("microServiceId", ...), a class <Interface>Stub deriving
// from the interface: each Q_INVOKABLE method is overridden to call remotely and block, and
// gets a QFuture form <name>Async(..., Tomato::CallOptions). Parameter and return types are
// taken from the interface's own member function types (decltype), so the overrides match
// the declarations exactly however they were spelled.
//
// Mistakes are reported as `<header>:<line>: error: <what> : <what to do>`, the way compilers
// do, so IDEs jump to the line; the exit code is then 1 and nothing is written.
#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRegularExpression>
#include <QtCore/QSaveFile>
#include <QtCore/QSet>
#include <QtCore/QTextStream>

#include <cstdio>

namespace {

struct Method
{
    QString name;
    int argc = 0;
    QList<int> shorterForms; // argument counts of moc's default-argument clones
    bool isConst = false;
    QString returnType;  // as moc spells them, for messages
    QStringList argumentTypes;
};

struct Interface
{
    QString qualifiedName; // e.g. Sample::EchoService
    QStringList namespaces;
    QString name;
    QList<Method> methods;
    QList<QJsonObject> declarations; // moc's description of each method, clones included
};

struct Diagnostic
{
    int line = 0; // 0: the whole file
    QString message;
};

// ---- the header as text --------------------------------------------------------------------

// What the header's text says that moc's JSON does not: where things are, pure virtual
// methods moc cannot see (no Q_INVOKABLE), classes moc ignores (no Q_OBJECT). A light scan,
// not a C++ parser: comments and strings are blanked first, so they never match.
class HeaderText
{
public:
    struct Class
    {
        QString name;
        int line = 0;
        qsizetype begin = 0, end = 0; // the body, between its braces
        bool hasObjectMacro = false, hasGadgetMacro = false, hasServiceId = false;
    };

    explicit HeaderText(const QString &text) : m_raw(text), m_code(blankComments(text))
    {
        static const QRegularExpression head(QStringLiteral("\\b(class|struct)\\s+(?:[A-Z_][A-Z0-9_]*\\s+)*(\\w+)\\s*(?:final\\s*)?(?::[^;{]*)?\\{"));
        for (auto it = head.globalMatch(m_code); it.hasNext();) {
            const auto m = it.next();
            Class c;
            c.name = m.captured(2);
            c.line = lineOf(m.capturedStart());
            c.begin = m.capturedEnd();
            c.end = closingBrace(c.begin);
            const QString body = m_code.mid(c.begin, c.end - c.begin);
            c.hasObjectMacro = body.contains(QRegularExpression(QStringLiteral("\\bQ_OBJECT\\b")));
            c.hasGadgetMacro = body.contains(QRegularExpression(QStringLiteral("\\bQ_GADGET\\b")));
            c.hasServiceId = m_raw.mid(c.begin, c.end - c.begin).contains(QLatin1String("\"microServiceId\""));
            m_classes.append(c);
        }
    }

    const QList<Class> &classes() const { return m_classes; }
    const Class *find(const QString &name) const
    {
        for (const Class &c : m_classes) {
            if (c.name == name)
                return &c;
        }
        return nullptr;
    }
    int lineOf(qsizetype offset) const { return int(m_code.left(offset).count(QLatin1Char('\n'))) + 1; }

    // Where `name(` is declared in the class, and how many times.
    QList<int> declarationLines(const Class &c, const QString &name) const
    {
        QList<int> lines;
        const QRegularExpression re(QStringLiteral("\\b%1\\s*\\(").arg(QRegularExpression::escape(name)));
        for (auto it = re.globalMatch(m_code.mid(c.begin, c.end - c.begin)); it.hasNext();)
            lines << lineOf(c.begin + it.next().capturedStart());
        return lines;
    }

    // The pure virtual methods declared in the class: name, line, whether Q_INVOKABLE.
    struct PureVirtual
    {
        QString name;
        int line;
        bool invokable;
    };
    QList<PureVirtual> pureVirtuals(const Class &c) const
    {
        QList<PureVirtual> out;
        // From the end of the previous statement (or access label) to "= 0;".
        static const QRegularExpression decl(QStringLiteral("(?:^|(?<=[;{}:]))([^;{}]*?\\bvirtual\\b[^;{}]*?\\b(\\w+)\\s*\\([^;{}]*\\)[^;{}]*=\\s*0\\s*;)"));
        const QString body = m_code.mid(c.begin, c.end - c.begin);
        for (auto it = decl.globalMatch(body); it.hasNext();) {
            const auto m = it.next();
            out.append({m.captured(2), lineOf(c.begin + m.capturedStart(2)),
                        m.captured(1).contains(QRegularExpression(QStringLiteral("\\bQ_INVOKABLE\\b")))});
        }
        return out;
    }

    // Whether `name(...)` is declared const (moc's JSON does not say).
    bool declaredConst(const Class &c, const QString &name) const
    {
        const QString body = m_code.mid(c.begin, c.end - c.begin);
        const QRegularExpression re(QStringLiteral("\\b%1\\s*\\(").arg(QRegularExpression::escape(name)));
        for (auto it = re.globalMatch(body); it.hasNext();) {
            qsizetype i = it.next().capturedEnd();
            for (int depth = 1; i < body.size() && depth > 0; ++i) {
                if (body[i] == QLatin1Char('('))
                    ++depth;
                else if (body[i] == QLatin1Char(')'))
                    --depth;
            }
            while (i < body.size() && body[i].isSpace())
                ++i;
            if (body.mid(i, 5) == QLatin1String("const"))
                return true;
        }
        return false;
    }

private:
    static QString blankComments(QString s)
    {
        // Line and block comments, and string literals, become blanks (newlines kept).
        for (qsizetype i = 0; i < s.size(); ++i) {
            if (s[i] == QLatin1Char('/') && i + 1 < s.size() && s[i + 1] == QLatin1Char('/')) {
                for (; i < s.size() && s[i] != QLatin1Char('\n'); ++i)
                    s[i] = QLatin1Char(' ');
            } else if (s[i] == QLatin1Char('/') && i + 1 < s.size() && s[i + 1] == QLatin1Char('*')) {
                for (; i < s.size() && !(s[i] == QLatin1Char('*') && i + 1 < s.size() && s[i + 1] == QLatin1Char('/')); ++i) {
                    if (s[i] != QLatin1Char('\n'))
                        s[i] = QLatin1Char(' ');
                }
                if (i + 1 < s.size())
                    s[i] = s[i + 1] = QLatin1Char(' ');
            } else if (s[i] == QLatin1Char('"')) {
                for (++i; i < s.size() && s[i] != QLatin1Char('"') && s[i] != QLatin1Char('\n'); ++i) {
                    if (s[i] == QLatin1Char('\\') && i + 1 < s.size())
                        s[i++] = QLatin1Char(' ');
                    s[i] = QLatin1Char(' ');
                }
            }
        }
        return s;
    }

    qsizetype closingBrace(qsizetype from) const
    {
        int depth = 1;
        for (qsizetype i = from; i < m_code.size(); ++i) {
            if (m_code[i] == QLatin1Char('{'))
                ++depth;
            else if (m_code[i] == QLatin1Char('}') && --depth == 0)
                return i;
        }
        return m_code.size();
    }

    QString m_raw;
    QString m_code;
    QList<Class> m_classes;
};

// ---- checks ------------------------------------------------------------------------------

// Names QObject declares as meta-methods: a remote method of that name would be mistaken
// for QObject's own (and the server refuses it).
const QSet<QString> &reservedNames()
{
    static const QSet<QString> names{QStringLiteral("deleteLater"), QStringLiteral("destroyed"),
                                     QStringLiteral("objectNameChanged"), QStringLiteral("_q_reregisterTimers")};
    return names;
}

// Types the marshaller takes by name, besides enums, Q_GADGETs and containers of these.
bool isKnownValueType(const QString &t)
{
    static const QSet<QString> known{
        QStringLiteral("bool"), QStringLiteral("char"), QStringLiteral("signed char"), QStringLiteral("uchar"),
        QStringLiteral("unsigned char"), QStringLiteral("short"), QStringLiteral("ushort"), QStringLiteral("int"),
        QStringLiteral("uint"), QStringLiteral("long"), QStringLiteral("ulong"), QStringLiteral("qlonglong"),
        QStringLiteral("qulonglong"), QStringLiteral("qint8"), QStringLiteral("quint8"), QStringLiteral("qint16"),
        QStringLiteral("quint16"), QStringLiteral("qint32"), QStringLiteral("quint32"), QStringLiteral("qint64"),
        QStringLiteral("quint64"), QStringLiteral("float"), QStringLiteral("double"), QStringLiteral("qreal"),
        QStringLiteral("QString"), QStringLiteral("QByteArray"), QStringLiteral("QDateTime"), QStringLiteral("QUuid"),
        QStringLiteral("QVariant"), QStringLiteral("QVariantMap"), QStringLiteral("QVariantList"),
        QStringLiteral("QVariantHash"), QStringLiteral("QStringList"), QStringLiteral("QByteArrayList")};
    return known.contains(t);
}

// The type names inside a type: "QMap<QString,QList<Foo>>" -> QMap, QString, QList, Foo.
QStringList namesIn(const QString &type)
{
    QStringList out;
    for (QString part : type.split(QRegularExpression(QStringLiteral("[<>,]")), Qt::SkipEmptyParts)) {
        part = part.trimmed();
        part.remove(QRegularExpression(QStringLiteral("^const\\s+|\\s*&$")));
        if (!part.isEmpty())
            out << part;
    }
    return out;
}

class Checker
{
public:
    Checker(const QJsonObject &root, const HeaderText &header) : m_root(root), m_header(header)
    {
        // Enums and gadgets moc saw in this header may travel.
        for (const QJsonValue &cv : root.value(QLatin1String("classes")).toArray()) {
            const QJsonObject cls = cv.toObject();
            if (cls.value(QLatin1String("gadget")).toBool()) {
                m_gadgets << cls.value(QLatin1String("className")).toString()
                          << cls.value(QLatin1String("qualifiedClassName")).toString();
            }
            for (const QJsonValue &e : cls.value(QLatin1String("enums")).toArray())
                m_enums << e.toObject().value(QLatin1String("name")).toString();
        }
    }

    QList<Diagnostic> run(const QList<Interface> &interfaces)
    {
        checkClassesMocIgnored();
        if (interfaces.isEmpty())
            noInterface();
        for (const Interface &i : interfaces)
            checkInterface(i);
        return m_diagnostics;
    }

private:
    void add(int line, const QString &message) { m_diagnostics.append({line, message}); }

    // A class that looks like an interface but has no Q_OBJECT: moc skips it, silently.
    void checkClassesMocIgnored()
    {
        for (const HeaderText::Class &c : m_header.classes()) {
            if (c.hasServiceId && !c.hasObjectMacro)
                add(c.line, QStringLiteral("class %1 has Q_CLASSINFO(\"microServiceId\") but no Q_OBJECT: add Q_OBJECT "
                                           "as the first line of the class").arg(c.name));
        }
    }

    void noInterface()
    {
        for (const HeaderText::Class &c : m_header.classes()) {
            if (c.hasObjectMacro && !c.hasServiceId && !m_header.pureVirtuals(c).isEmpty()) {
                add(c.line, QStringLiteral("class %1 has no Q_CLASSINFO(\"microServiceId\", \"...\"): add it to make it an "
                                           "interface (clients find the service by that id)").arg(c.name));
                return;
            }
        }
        if (m_diagnostics.isEmpty())
            add(0, QStringLiteral("no interface here: an interface is a QObject class with Q_OBJECT, "
                                  "Q_CLASSINFO(\"microServiceId\", \"...\") and Q_INVOKABLE pure virtual methods"));
    }

    void checkInterface(const Interface &i)
    {
        const HeaderText::Class *c = m_header.find(i.name);
        const int classLine = c ? c->line : 0;
        auto lineOfMethod = [&](const QString &name) {
            const QList<int> lines = c ? m_header.declarationLines(*c, name) : QList<int>();
            return lines.isEmpty() ? classLine : lines.first();
        };
        if (c) {
            for (const HeaderText::PureVirtual &p : m_header.pureVirtuals(*c)) {
                if (!p.invokable)
                    add(p.line, QStringLiteral("%1::%2 is pure virtual but not Q_INVOKABLE: add Q_INVOKABLE (moc does not "
                                               "see it, so the stub could not implement it)").arg(i.qualifiedName, p.name));
            }
        }
        QHash<QString, QStringList> signatures;
        for (const QJsonObject &m : i.declarations) {
            const QString name = m.value(QLatin1String("name")).toString();
            QStringList types;
            for (const QJsonValue &a : m.value(QLatin1String("arguments")).toArray())
                types << a.toObject().value(QLatin1String("type")).toString();
            signatures[name] << name + QLatin1Char('(') + types.join(QLatin1Char(',')) + QLatin1Char(')');
            const int line = lineOfMethod(name);
            if (reservedNames().contains(name))
                add(line, QStringLiteral("%1::%2: the name is QObject's own (deleteLater, destroyed, objectNameChanged): "
                                         "rename the method").arg(i.qualifiedName, name));
            checkType(i, name, line, QStringLiteral("the return type"), m.value(QLatin1String("returnType")).toString());
            for (int a = 0; a < types.size(); ++a)
                checkType(i, name, line, QStringLiteral("parameter %1").arg(a + 1), types.at(a));
        }
        for (auto it = signatures.cbegin(); it != signatures.cend(); ++it) {
            const QList<int> lines = c ? m_header.declarationLines(*c, it.key()) : QList<int>();
            if (lines.size() > 1)
                add(lines.at(1), QStringLiteral("%1::%2 is overloaded (%3): remote methods need unique names; rename one")
                                     .arg(i.qualifiedName, it.key(), it.value().join(QLatin1String(", "))));
        }
    }

    void checkType(const Interface &i, const QString &method, int line, const QString &what, const QString &type)
    {
        if (type.isEmpty() || type == QLatin1String("void"))
            return;
        const QString where = QStringLiteral("%1::%2: %3 '%4'").arg(i.qualifiedName, method, what, type);
        if (namesIn(type).contains(QLatin1String("QObject*")) || namesIn(type).contains(QLatin1String("QObject"))) {
            add(line, QStringLiteral("%1: a QObject cannot travel (it stays on its machine); pass a Q_GADGET value "
                                     "with the data instead").arg(where));
            return;
        }
        if (type.contains(QLatin1Char('*'))) {
            add(line, QStringLiteral("%1 is a pointer: a remote call carries values, not addresses; use a value or a "
                                     "const reference (an object stays on its machine)").arg(where));
            return;
        }
        for (const QString &name : namesIn(type)) {
            const QString shortName = name.section(QLatin1String("::"), -1);
            if (isKnownValueType(name) || m_gadgets.contains(name) || m_enums.contains(shortName)
                || QStringList{QStringLiteral("QList"), QStringLiteral("QVector"), QStringLiteral("QMap"),
                               QStringLiteral("QHash")}.contains(name))
                continue;
            // A type of this header that is no gadget: we can tell for sure. Types of other
            // headers are checked when the stub is compiled (static_assert) and at publish().
            const HeaderText::Class *c = m_header.find(shortName);
            if (c && !c->hasGadgetMacro && !c->hasObjectMacro)
                add(c->line, QStringLiteral("%1%2 is neither a value type Tomato marshals nor a Q_GADGET: add Q_GADGET "
                                            "and a Q_PROPERTY per field to %3")
                                 .arg(where, name == type ? QString() : QStringLiteral(": ") + shortName, shortName));
        }
    }

    QJsonObject m_root;
    const HeaderText &m_header;
    QSet<QString> m_gadgets;
    QSet<QString> m_enums;
    QList<Diagnostic> m_diagnostics;
};

// ---- reading -------------------------------------------------------------------------------

QList<Interface> readInterfaces(const QJsonObject &root, const HeaderText &header)
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
        const HeaderText::Class *text = header.find(iface.name);
        QHash<QString, int> byName;
        for (const char *section : {"methods", "slots"}) {
            for (const QJsonValue &mv : cls.value(QLatin1String(section)).toArray()) {
                const QJsonObject m = mv.toObject();
                if (m.value(QLatin1String("access")).toString() != QLatin1String("public"))
                    continue;
                iface.declarations.append(m);
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
                method.isConst = text && header.declaredConst(*text, method.name);
                method.returnType = m.value(QLatin1String("returnType")).toString();
                for (const QJsonValue &a : m.value(QLatin1String("arguments")).toArray())
                    method.argumentTypes << a.toObject().value(QLatin1String("type")).toString();
                byName.insert(method.name, int(iface.methods.size()));
                iface.methods.append(method);
            }
        }
        result.append(iface);
    }
    return result;
}

// ---- writing -------------------------------------------------------------------------------

struct Output
{
    QString interfaceInclude; // as the stub header includes the interface: "echoservice.h"
    QString exportMacro;      // put on each stub class; empty: none
    QString exportHeader;     // included for the macro; empty: none
};

QString memberPointer(const Interface &iface, const Method &m)
{
    return QStringLiteral("decltype(&::%1::%2)").arg(iface.qualifiedName, m.name);
}

QString parameterList(const Interface &iface, const Method &m, bool withOptions, bool withDefault, int argc = -1)
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

// Compile-time checks of every parameter and result type, with a message that says what to
// do: types from other headers cannot be judged from the header's text alone.
void writeTypeChecks(QTextStream &out, const Interface &iface, const Method &m)
{
    const QString mp = memberPointer(iface, m);
    const QString where = iface.qualifiedName + QLatin1String("::") + m.name;
    out << "    static_assert(Tomato::IsRemoteType<std::decay_t<Tomato::detail::ReturnOf<" << mp
        << ">>>::value,\n                  \"" << where << ": the return type '" << m.returnType
        << "' is neither a value type Tomato marshals nor a Q_GADGET: add Q_GADGET "
           "(docs/SERIALIZATION.md lists the types)\");\n";
    for (int i = 0; i < m.argc; ++i) {
        out << "    static_assert(Tomato::IsRemoteType<std::decay_t<Tomato::detail::ArgOf<" << mp << ", " << i
            << ">>>::value,\n                  \"" << where << ": parameter " << (i + 1) << " '"
            << m.argumentTypes.value(i) << "' is neither a value type Tomato marshals nor a Q_GADGET: add Q_GADGET (docs/SERIALIZATION.md lists "
               "the types)\");\n";
    }
}

void writeHeader(QTextStream &out, const QList<Interface> &interfaces, const QString &headerName, const Output &o)
{
    out << "// Generated by tomato-stubgen from " << headerName << ". Do not edit.\n#pragma once\n\n#include \""
        << o.interfaceInclude << "\"\n";
    if (!o.exportHeader.isEmpty())
        out << "#include \"" << o.exportHeader << "\"\n";
    out << "#include <tomato/client/stub.h>\n\n#include <chrono>\n#include <memory>\n#include <type_traits>\n\n";
    const QString exported = o.exportMacro.isEmpty() ? QString() : o.exportMacro + QLatin1Char(' ');
    for (const Interface &iface : interfaces) {
        for (const QString &ns : iface.namespaces)
            out << "namespace " << ns << " {\n";
        out << "\n// Client stub of " << iface.qualifiedName
            << ": every method is a remote call. Thread-safe: call from any thread.\n"
            << "class " << exported << iface.name << "Stub final : public " << iface.name << "\n{\npublic:\n"
            << "    explicit " << iface.name << "Stub(std::shared_ptr<Tomato::Channel> channel,\n"
            << "        const Tomato::StubOptions &options = {}, QObject *parent = nullptr);\n\n"
            << "    Tomato::StubCore &stubCore() { return m_core; }\n"
            << "    void setTimeout(std::chrono::milliseconds timeout) { m_core.setTimeout(timeout); }\n"
            << "    std::chrono::milliseconds timeout() const { return m_core.timeout(); }\n\n";
        for (const Method &m : iface.methods) {
            const QString mp = memberPointer(iface, m);
            out << "    Tomato::detail::ReturnOf<" << mp << "> " << m.name << "(" << parameterList(iface, m, false, false)
                << ")" << (m.isConst ? " const" : "") << " override;\n";
            out << "    Tomato::detail::FutureOf<" << mp << "> " << m.name << "Async(" << parameterList(iface, m, true, true)
                << ") const;\n";
            // Calls that leave defaulted arguments out: the interface's declaration supplies
            // the defaults, virtual dispatch brings the call back to the override above.
            for (int argc : m.shorterForms) {
                out << "    Tomato::detail::ReturnOf<" << mp << "> " << m.name << "("
                    << parameterList(iface, m, false, false, argc) << ")" << (m.isConst ? " const" : "")
                    << "\n    {\n        return static_cast<" << (m.isConst ? "const " : "") << iface.name << " &>(*this)."
                    << m.name << "(" << argumentList(m, argc) << ");\n    }\n";
            }
        }
        out << "\nprivate:\n";
        for (const Method &m : iface.methods)
            writeTypeChecks(out, iface, m);
        out << "    Tomato::StubCore m_core;\n};\n\n";
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
                << "\n{\n    return Tomato::waitFor(" << m.name << "Async(" << argumentList(m) << "));\n}\n\n";
            const QString args = argumentList(m);
            out << "Tomato::detail::FutureOf<" << mp << "> " << stub << "::" << m.name << "Async("
                << parameterList(iface, m, true, false) << ") const\n{\n"
                << "    return m_core.call<std::decay_t<Tomato::detail::ReturnOf<" << mp << ">>>(" << slot << ", options"
                << (args.isEmpty() ? QString() : QLatin1String(", ") + args) << ");\n}\n\n";
        }
        for (int i = int(iface.namespaces.size()) - 1; i >= 0; --i)
            out << "} // namespace " << iface.namespaces.at(i) << "\n";
        out << "\n";
    }
}

bool write(const QString &path, const std::function<void(QTextStream &)> &body, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    QTextStream out(&file);
    body(out);
    out.flush();
    if (!file.commit()) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

int failWith(const QString &message, int code = 1)
{
    std::fprintf(stderr, "%s\n", qPrintable(message));
    return code;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    app.setApplicationVersion(QStringLiteral(TOMATO_VERSION_STRING));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Generates Tomato RPC client stubs from moc JSON "
                                                    "(tomato_add_stubs() runs it; docs/STUBS.md)."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("json"), QStringLiteral("moc --output-json file"), QStringLiteral("file")});
    parser.addOption({QStringLiteral("header"), QStringLiteral("the interface header"), QStringLiteral("file")});
    parser.addOption({QStringLiteral("output-dir"), QStringLiteral("where to write"), QStringLiteral("dir")});
    parser.addOption({QStringLiteral("basename"), QStringLiteral("output base name"), QStringLiteral("name")});
    parser.addOption({QStringLiteral("include"),
                      QStringLiteral("how the stub header includes the interface (default: its file name)"),
                      QStringLiteral("path")});
    parser.addOption({QStringLiteral("export-macro"), QStringLiteral("macro put on each stub class"),
                      QStringLiteral("name")});
    parser.addOption({QStringLiteral("export-header"), QStringLiteral("header that defines the export macro"),
                      QStringLiteral("path")});
    if (!parser.parse(app.arguments()))
        return failWith(QStringLiteral("tomato-stubgen: ") + parser.errorText() + QLatin1String(" (see --help)"), 2);
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    const QString jsonPath = parser.value(QStringLiteral("json"));
    const QString headerPath = parser.value(QStringLiteral("header"));
    const QString outDir = parser.value(QStringLiteral("output-dir"));
    const QString base = parser.value(QStringLiteral("basename"));
    if (jsonPath.isEmpty() || headerPath.isEmpty() || outDir.isEmpty() || base.isEmpty())
        return failWith(QStringLiteral("tomato-stubgen: --json, --header, --output-dir and --basename are required "
                                       "(see --help)"), 2);

    QFile header(headerPath);
    if (!header.open(QIODevice::ReadOnly))
        return failWith(QStringLiteral("tomato-stubgen: cannot read %1: %2").arg(headerPath, header.errorString()));
    const HeaderText text(QString::fromUtf8(header.readAll()));
    // moc writes no JSON, or an empty one, for a header without a Q_OBJECT class.
    QJsonObject root;
    QFile jsonFile(jsonPath);
    if (jsonFile.open(QIODevice::ReadOnly)) {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(jsonFile.readAll(), &error);
        root = doc.object();
    }

    const QList<Interface> interfaces = readInterfaces(root, text);
    const QList<Diagnostic> problems = Checker(root, text).run(interfaces);
    if (!problems.isEmpty()) {
        for (const Diagnostic &d : problems) {
            std::fprintf(stderr, "%s%s: error: %s\n", qPrintable(headerPath),
                         d.line > 0 ? qPrintable(QStringLiteral(":%1").arg(d.line)) : "", qPrintable(d.message));
        }
        return 1;
    }

    Output o;
    o.interfaceInclude = parser.isSet(QStringLiteral("include")) ? parser.value(QStringLiteral("include"))
                                                                 : QFileInfo(headerPath).fileName();
    o.exportMacro = parser.value(QStringLiteral("export-macro"));
    o.exportHeader = parser.value(QStringLiteral("export-header"));
    const QString stubHeader = base + QLatin1String("_stub.h");
    QString error;
    if (!write(outDir + QLatin1Char('/') + stubHeader,
               [&](QTextStream &out) { writeHeader(out, interfaces, QFileInfo(headerPath).fileName(), o); }, &error)
        || !write(outDir + QLatin1Char('/') + base + QLatin1String("_stub.cpp"),
                  [&](QTextStream &out) { writeSource(out, interfaces, stubHeader); }, &error))
        return failWith(QStringLiteral("tomato-stubgen: ") + error);
    return 0;
}
