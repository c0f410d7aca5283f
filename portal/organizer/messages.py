"""Translations of the organizer pages: English text -> (Spanish, Portuguese).

The participant pages' catalog (portal.messages) is loaded first and wins for text both use ("Log
out", "Table"...), so the two catalogs never register different translations of one text."""

from __future__ import annotations

from portal import messages as _participant_messages  # noqa: F401  (loaded first: it wins on shared text)
from portal.i18n import catalog, register_messages

MESSAGES: dict[str, tuple[str, str]] = {
    "Organizer": ("Organización", "Organização"),
    "My events": ("Mis eventos", "Meus eventos"),
    "Dashboard": ("Tablero", "Painel"),
    "Check-in desk": ("Registro de llegada", "Credenciamento"),
    "Event setup": ("Configuración del evento", "Configuração do evento"),
    "Log out": ("Salir", "Sair"),
    "Check-in code": ("Código de registro de llegada", "Código de credenciamento"),
    "Scan the QR code on the participant's agenda, or type or paste its code, then press Enter.": (
        "Escanee el código QR de la agenda del participante, o escriba o pegue su código, y pulse Enter.",
        "Leia o código QR da agenda do participante, ou digite ou cole o código, e pressione Enter.",
    ),
    "Find by code": ("Buscar por código", "Buscar por código"),
    "Name, email or company": ("Nombre, correo o empresa", "Nome, e-mail ou empresa"),
    "Search": ("Buscar", "Buscar"),
    "Results": ("Resultados", "Resultados"),
    "Nobody matches.": ("Nadie coincide.", "Ninguém corresponde."),
    "Status": ("Estado", "Status"),
    "Your role": ("Su rol", "Seu papel"),
    "organizer": ("organizador", "organizador"),
    "staff": ("personal de apoyo", "equipe de apoio"),
    "Figures": ("Cifras", "Números"),
    "Registrations": ("Inscripciones", "Inscrições"),
    "confirmed": ("confirmadas", "confirmadas"),
    "withdrawn": ("retiradas", "desistências"),
    "buyers": ("compradores", "compradores"),
    "sellers": ("vendedores", "vendedores"),
    "Request acceptance rate": ("Tasa de aceptación de solicitudes", "Taxa de aceitação das solicitações"),
    "{accepted} accepted of {decided} decided; {pending} pending": (
        "{accepted} aceptadas de {decided} decididas; {pending} pendientes",
        "{accepted} aceitas de {decided} decididas; {pending} pendentes",
    ),
    "Meetings": ("Citas", "Reuniões"),
    "held": ("realizadas", "realizadas"),
    "checked in": ("con llegada registrada", "com chegada registrada"),
    "cancelled": ("canceladas", "canceladas"),
    "Empty seats": ("Puestos libres", "Lugares livres"),
    "of {seats} (slots × tables)": ("de {seats} (franjas × mesas)", "de {seats} (horários × mesas)"),
    "Waiting list": ("Lista de espera", "Lista de espera"),
    "No-shows": ("Inasistencias", "Ausências"),
    "Email failures": ("Correos fallidos", "E-mails com falha"),
    "sent": ("enviados", "enviados"),
    "pending": ("pendientes", "pendentes"),
    "Lifecycle": ("Etapas del evento", "Etapas do evento"),
    "Each button starts the step on the Prefect server; follow it there.": (
        "Cada botón inicia la etapa en el servidor Prefect; sígala allí.",
        "Cada botão inicia a etapa no servidor Prefect; acompanhe-a lá.",
    ),
    "Schedule": ("Agenda general", "Agenda geral"),
    "{empty} empty seats on this day.": (
        "{empty} puestos libres este día.",
        "{empty} lugares livres neste dia.",
    ),
    "Slot": ("Franja", "Horário"),
    "Empty": ("Libres", "Livres"),
    "empty": ("libre", "livre"),
    "Requester": ("Solicitante", "Solicitante"),
    "Counterpart": ("Contraparte", "Contraparte"),
    "Reason": ("Motivo", "Motivo"),
    "Nobody is waiting.": ("Nadie está en espera.", "Ninguém está na espera."),
    "Table": ("Mesa", "Mesa"),
    "Host": ("Anfitrión", "Anfitrião"),
    "Visitor": ("Visitante", "Visitante"),
    "No no-shows recorded.": ("No hay inasistencias registradas.", "Nenhuma ausência registrada."),
    "Recipient": ("Destinatario", "Destinatário"),
    "Message": ("Mensaje", "Mensagem"),
    "Attempts": ("Intentos", "Tentativas"),
    "No email has failed.": ("Ningún correo ha fallado.", "Nenhum e-mail falhou."),
    "Time": ("Hora", "Hora"),
    "Actions": ("Acciones", "Ações"),
    "Check in": ("Registrar llegada", "Registrar chegada"),
    "No-show": ("No asistió", "Não compareceu"),
    "No meetings.": ("Sin citas.", "Sem reuniões."),
    "Next participant": ("Siguiente participante", "Próximo participante"),
    "Signed in as {name}.": ("Sesión iniciada como {name}.", "Conectado como {name}."),
    "You are not a member of any event yet.": (
        "Todavía no es miembro de ningún evento.",
        "Você ainda não é membro de nenhum evento.",
    ),
    "Started: {step}": ("Iniciado: {step}", "Iniciado: {step}"),
    "Prefect run {name} was created for {event}.": (
        "Se creó la ejecución de Prefect {name} para {event}.",
        "A execução do Prefect {name} foi criada para {event}.",
    ),
    "Follow the run in Prefect": ("Seguir la ejecución en Prefect", "Acompanhar a execução no Prefect"),
    "Not started: {step}": ("No iniciado: {step}", "Não iniciado: {step}"),
    "The Prefect server did not accept the run. Check that `rueda up` is running, then try again.": (
        "El servidor Prefect no aceptó la ejecución. Verifique que `rueda up` esté corriendo y vuelva a intentarlo.",
        "O servidor Prefect não aceitou a execução. Verifique se `rueda up` está rodando e tente de novo.",
    ),
    "Back to the dashboard": ("Volver al tablero", "Voltar ao painel"),
    "Organizer sign-in": ("Ingreso de organizadores", "Acesso de organizadores"),
    "Email": ("Correo electrónico", "E-mail"),
    "Password": ("Contraseña", "Senha"),
    "Sign in": ("Ingresar", "Entrar"),
    "Accounts are created by the event's administrators with `rueda user add`.": (
        "Los administradores del evento crean las cuentas con `rueda user add`.",
        "Os administradores do evento criam as contas com `rueda user add`.",
    ),
    "Times are in the event's time zone ({tz}). The schedule and the tables change with `rueda event update`.": (
        "Las horas están en la zona horaria del evento ({tz}). La agenda y las mesas se cambian con `rueda event update`.",
        "Os horários estão no fuso horário do evento ({tz}). A agenda e as mesas mudam com `rueda event update`.",
    ),
    "Name": ("Nombre", "Nome"),
    "Venue": ("Lugar", "Local"),
    "Address": ("Dirección", "Endereço"),
    "City": ("Ciudad", "Cidade"),
    "Registration opens": ("Apertura de inscripciones", "Abertura das inscrições"),
    "Registration closes": ("Cierre de inscripciones", "Encerramento das inscrições"),
    "Requests close": ("Cierre de solicitudes", "Encerramento das solicitações"),
    "Minimum meetings per participant": (
        "Mínimo de citas por participante",
        "Mínimo de reuniões por participante",
    ),
    "Maximum meetings per participant": (
        "Máximo de citas por participante",
        "Máximo de reuniões por participante",
    ),
    "Who may ask whom": ("Quién puede solicitar a quién", "Quem pode solicitar a quem"),
    "Sellers ask buyers": ("Los vendedores solicitan a los compradores", "Vendedores solicitam compradores"),
    "Buyers ask sellers": ("Los compradores solicitan a los vendedores", "Compradores solicitam vendedores"),
    "Sellers and buyers ask each other": (
        "Vendedores y compradores se solicitan entre sí",
        "Vendedores e compradores solicitam uns aos outros",
    ),
    "Anyone asks anyone": ("Cualquiera solicita a cualquiera", "Qualquer um solicita qualquer um"),
    "Save": ("Guardar", "Salvar"),
    "Enter a valid email address, like name@company.com.": (
        "Escriba un correo electrónico válido, como nombre@empresa.com.",
        "Digite um e-mail válido, como nome@empresa.com.",
    ),
    "Enter your password.": ("Escriba su contraseña.", "Digite sua senha."),
    "The email or the password is not right.": (
        "El correo o la contraseña no son correctos.",
        "O e-mail ou a senha não estão corretos.",
    ),
    "The event was saved.": ("El evento se guardó.", "O evento foi salvo."),
    "Not started": ("No iniciado", "Não iniciado"),
    "Started": ("Iniciado", "Iniciado"),
    "This is not a check-in code of this event.": (
        "Este no es un código de registro de llegada de este evento.",
        "Este não é um código de credenciamento deste evento.",
    ),
    "Meeting checked in.": ("Llegada a la cita registrada.", "Chegada à reunião registrada."),
    "This meeting was already checked in.": (
        "La llegada a esta cita ya estaba registrada.",
        "A chegada a esta reunião já estava registrada.",
    ),
    "Meeting marked as a no-show; its seat goes back to the waiting list.": (
        "Cita marcada como inasistencia; su puesto vuelve a la lista de espera.",
        "Reunião marcada como ausência; o lugar volta para a lista de espera.",
    ),
    "This meeting was already a no-show.": (
        "Esta cita ya estaba marcada como inasistencia.",
        "Esta reunião já estava marcada como ausência.",
    ),
    "not sent": ("no enviados", "não enviados"),
    "Tables from": ("Mesas desde", "Mesas a partir de"),
    "Show": ("Mostrar", "Mostrar"),
    "All tables": ("Todas las mesas", "Todas as mesas"),
    "Previous tables": ("Mesas anteriores", "Mesas anteriores"),
    "Next tables": ("Mesas siguientes", "Próximas mesas"),
    "Tables {first} to {last} of {total}.": (
        "Mesas {first} a {last} de {total}.",
        "Mesas {first} a {last} de {total}.",
    ),
    "Tables where {who} meets: {n} of {total}.": (
        "Mesas donde se reúne {who}: {n} de {total}.",
        "Mesas onde {who} se reúne: {n} de {total}.",
    ),
    "This step does not apply to the event now (status {status}).": (
        "Este paso no corresponde al evento ahora (estado {status}).",
        "Esta etapa não se aplica ao evento agora (status {status}).",
    ),
    "Not sent, on purpose": ("No enviados, a propósito", "Não enviados, de propósito"),
    "skipped: the event ended before this reminder went out": (
        "el evento terminó antes de que saliera este recordatorio",
        "o evento terminou antes que este lembrete saísse",
    ),
    "stale: not_after passed before it could be sent": (
        "ya no servía: pasó su hora límite antes de poder enviarse",
        "já não servia: passou do horário limite antes de poder ser enviado",
    ),
    "skipped: the recipient's data was erased at their request": (
        "los datos del destinatario se eliminaron a su pedido",
        "os dados do destinatário foram excluídos a seu pedido",
    ),
    "Checked in (arrived)": ("Llegó (registrar llegada)", "Chegou (registrar chegada)"),
    "Arrived at {time}": ("Llegó a las {time}", "Chegou às {time}"),
    "Not arrived yet.": ("Aún no ha llegado.", "Ainda não chegou."),
    "Arrival recorded.": ("Llegada registrada.", "Chegada registrada."),
    "This participant had already arrived.": (
        "La llegada de este participante ya estaba registrada.",
        "A chegada deste participante já estava registrada.",
    ),
    "Data deletion requests": ("Solicitudes de eliminación de datos", "Pedidos de exclusão de dados"),
    "Participants ask from their page to have their data deleted. Carrying a request out anonymises them everywhere in this event and cannot be undone; figures that name nobody are kept. Refusing needs a legal reason, which the participant is told.": (
        "Los participantes piden desde su página que se eliminen sus datos. Atender una solicitud los anonimiza en todo este evento y no se puede deshacer; se conservan las cifras que no nombran a nadie. Rechazarla exige una razón legal, que se comunica al participante.",
        "Os participantes pedem na sua página a exclusão dos seus dados. Atender um pedido os anonimiza em todo este evento e não pode ser desfeito; os números que não identificam ninguém são mantidos. Recusar exige um motivo legal, que é comunicado ao participante.",
    ),
    "Participant": ("Participante", "Participante"),
    "Requested": ("Solicitado", "Solicitado"),
    "completed": ("atendida", "atendido"),
    "refused": ("rechazada", "recusado"),
    "Erase now": ("Eliminar ahora", "Excluir agora"),
    "I checked who asked, and I know this cannot be undone.": (
        "Verifiqué quién lo pidió y sé que esto no se puede deshacer.",
        "Verifiquei quem pediu e sei que isto não pode ser desfeito.",
    ),
    "Tick the box to confirm: an erasure cannot be undone.": (
        "Marque la casilla para confirmar: una eliminación no se puede deshacer.",
        "Marque a caixa para confirmar: uma exclusão não pode ser desfeita.",
    ),
    "Legal reason for refusing": ("Razón legal para rechazar", "Motivo legal para recusar"),
    "Refuse": ("Rechazar", "Recusar"),
    "Nobody has asked for their data to be deleted.": (
        "Nadie ha pedido que se eliminen sus datos.",
        "Ninguém pediu a exclusão dos seus dados.",
    ),
    "{n} data deletion requests are waiting for a decision.": (
        "{n} solicitudes de eliminación de datos esperan una decisión.",
        "{n} pedidos de exclusão de dados aguardam uma decisão.",
    ),
    "Participant {id} was erased; the confirmation email is queued.": (
        "El participante {id} fue eliminado; el correo de confirmación está en cola.",
        "O participante {id} foi excluído; o e-mail de confirmação está na fila.",
    ),
    "The request was refused; the participant is told the reason.": (
        "La solicitud fue rechazada; se comunica la razón al participante.",
        "O pedido foi recusado; o motivo é comunicado ao participante.",
    ),
}

# The email kinds whose text organizers write on the setup page (models.schemas.ORGANIZER_TEXT_KINDS).
TEXT_KIND_LABELS: dict[str, str] = {
    "registration.confirmed": "Registration confirmed",
    "requests.received": "Meeting requests received",
    "matches.suggested": "Suggested meetings",
    "agenda.published": "Agenda published",
    "agenda.changed": "Agenda changed",
    "meeting.cancelled": "Meeting cancelled",
    "waitlist.offered": "Waiting-list offer",
    "reminder.day-before": "Reminder the day before",
    "reminder.first-meeting": "Reminder before the first meeting",
    "survey.invited": "Survey invitation",
    "survey.reminder": "Survey reminder",
    "followup.invited": "Follow-up survey",
    "mission.deadline-approaching": "Mission deadline approaching",
}

MESSAGES.update(
    {
        "Your text in the emails": ("Su texto en los correos", "Seu texto nos e-mails"),
        "Shown as written below the message, in the participant's language; up to {limit} characters. Leave a box empty for no text.": (
            "Se muestra tal cual debajo del mensaje, en el idioma del participante; hasta {limit} caracteres. Deje un campo vacío para no añadir texto.",
            "Exibido como escrito abaixo da mensagem, no idioma do participante; até {limit} caracteres. Deixe um campo vazio para não incluir texto.",
        ),
        "Registration confirmed": ("Inscripción confirmada", "Inscrição confirmada"),
        "Meeting requests received": ("Solicitudes de reunión recibidas", "Pedidos de reunião recebidos"),
        "Suggested meetings": ("Reuniones sugeridas", "Reuniões sugeridas"),
        "Agenda published": ("Agenda publicada", "Agenda publicada"),
        "Agenda changed": ("Agenda modificada", "Agenda alterada"),
        "Meeting cancelled": ("Reunión cancelada", "Reunião cancelada"),
        "Waiting-list offer": ("Oferta de la lista de espera", "Oferta da lista de espera"),
        "Reminder the day before": ("Recordatorio del día anterior", "Lembrete da véspera"),
        "Reminder before the first meeting": (
            "Recordatorio antes de la primera reunión",
            "Lembrete antes da primeira reunião",
        ),
        "Survey invitation": ("Invitación a la encuesta", "Convite para a pesquisa"),
        "Survey reminder": ("Recordatorio de la encuesta", "Lembrete da pesquisa"),
        "Follow-up survey": ("Encuesta de seguimiento", "Pesquisa de acompanhamento"),
        "Mission deadline approaching": ("Plazo de la misión próximo", "Prazo da missão se aproximando"),
    }
)

_known = catalog()
register_messages({text: pair for text, pair in MESSAGES.items() if text not in _known})
